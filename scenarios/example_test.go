package scenarios_test

import (
	"errors"
	"fmt"

	"github.com/faultline/faultline/scenarios"
)

func ExampleLoad() {
	src := `
[scenario]
duration = "60s"

[[client]]
name = "users"
target = "api"
rate = 100

[[service]]
name = "api"
workers = 4
service_time = "exp(20ms)"

  [[service.call]]
  to = "db"
  timeout = "50ms"

[[service]]
name = "db"
service_time = "lognormal(2ms, 20ms)"
`
	spec, err := scenarios.Load("hello.toml", []byte(src))
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(spec.Name, spec.Duration, spec.Window)
	c := spec.Clients[0]
	fmt.Printf("client %s -> %s at %g/s\n", c.Name, c.Target, c.Rate)
	for _, s := range spec.Services {
		fmt.Printf("service %s: %d x %d workers, service time %s, mean %.1fms, %d calls\n",
			s.Name, s.Instances, s.Workers, s.ServiceTime, s.ServiceTime.Mean()/1e6, len(s.Calls))
	}
	// Output:
	// hello 1m0s 1s
	// client users -> api at 100/s
	// service api: 1 x 4 workers, service time exp(20ms), mean 20.0ms, 1 calls
	// service db: 1 x 1 workers, service time lognormal(2ms, 20ms), mean 3.3ms, 0 calls
}

func ExampleErrorList_Render() {
	src := `[scenario]
duration = "60s"

[[client]]
name = "users"
target = "api"
rate = 100

[[service]]
name = "api"
servce_time = "exp(20ms)"
`
	_, err := scenarios.Load("hello.toml", []byte(src))
	var list scenarios.ErrorList
	if errors.As(err, &list) {
		fmt.Print(list.Render(false))
	}
	// Output:
	// hello.toml:11:1: unknown key "servce_time" in [[service]] "api"
	//    11 | servce_time = "exp(20ms)"
	//       | ^
	// hint: did you mean "service_time"?
}
