package importer

// Kind is a span's role, with OpenTelemetry's SpanKind names: a server span
// is the work a service does for a request it received, a client span the
// wait of a caller on a call it made.
type Kind uint8

// The kinds of span. KindUnspecified is a span whose format or recorder did
// not say (a CSV table without a kind column).
const (
	KindUnspecified Kind = iota
	KindInternal
	KindServer
	KindClient
	KindProducer
	KindConsumer
)

// kindFromName reads the kind names of Jaeger's span.kind tag and Zipkin's
// kind field ("server", "SERVER", "client", ...).
func kindFromName(s string) Kind {
	switch s {
	case "server", "SERVER", "Server":
		return KindServer
	case "client", "CLIENT", "Client":
		return KindClient
	case "producer", "PRODUCER", "Producer":
		return KindProducer
	case "consumer", "CONSUMER", "Consumer":
		return KindConsumer
	case "internal", "INTERNAL", "Internal":
		return KindInternal
	}
	return KindUnspecified
}

// Span is one span, whatever format it was read from. Times are Unix
// nanoseconds.
type Span struct {
	TraceID  string
	SpanID   string
	ParentID string // "" for a root span
	// Service is the service that recorded the span; Instance the process,
	// pod or host within it ("" when the format does not say).
	Service   string
	Instance  string
	Operation string
	Start     int64
	End       int64
	Kind      Kind
	// FollowsFrom says the parent is named by a FOLLOWS_FROM reference
	// (Jaeger, OpenTracing): a parent that does not wait for it.
	FollowsFrom bool
	Error       bool
	// SampleRatio is the probability of a probabilistic sampler the span
	// says it was sampled with (Jaeger's sampler.type/sampler.param tags on
	// a root span); 0 when it does not say.
	SampleRatio float64
}
