// Package manifests reads Kubernetes and Istio manifests and maps what they
// say about a service's capacity and resilience onto faultline's scenario
// keys: Deployments and StatefulSets give instances, HorizontalPodAutoscalers
// give [service.autoscale], Istio VirtualServices give the callers' call
// timeout, retry and fault injection, and DestinationRules give the
// balancer, outlier detection and connection-pool limits (a bulkhead).
//
// It decodes with the ecosystem's own types (k8s.io/api, istio.io/api,
// through sigs.k8s.io/yaml), so that a field means what Kubernetes and Istio
// say it means. Driven in two steps:
//
//	f, err := manifests.Read("k8s/", "istio/virtual-services.yaml")
//	// err: a file that cannot be read, or a document that is not YAML
//	// (file:line: message)
//	svc := f.Service("reviews")  // typed findings, each with its Source
//	svc.WriteServiceKeys(w, "")              // instances = ... # Deployment ...
//	svc.WriteAutoscale(w, "service", "  ")   // [service.autoscale]
//	svc.WriteCall(w, "service.call", "  ")   // timeout, balancer, bulkhead, retry, outlier_detection
//	f.WriteFaults(w, links)                  // [[fault]] tables of the fault injection
//
// Every key written carries a comment naming the manifest (kind, name,
// file:line) it came from. What a manifest says that the scenario language
// cannot express (header-matched routes, weighted splits between versions,
// consecutive gateway errors, ...) is kept in Findings.Notes, and documents
// of kinds that say nothing about capacity or resilience are counted in
// Findings.Skipped. scenarios.md ("Importing traces and manifests",
// "Manifests") has the mapping table.
package manifests
