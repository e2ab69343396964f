package importer

import "regexp"

// podSuffix matches the part of a Kubernetes pod name that its controller
// generated, so that the name's remaining prefix is the workload's name:
//
//   - a Deployment's pod is <deployment>-<pod-template-hash>-<5 random>: the
//     ReplicaSet is named <deployment>-<hash>, where the hash is
//     rand.SafeEncodeString of a decimal uint32 (controller.ComputeHash,
//     kubernetes/kubernetes pkg/controller/controller_utils.go), and its
//     pods get generateName "<replicaset>-", to which the API server appends
//     5 random characters (names.SimpleNameGenerator, randomLength = 5,
//     staging/src/k8s.io/apiserver/pkg/storage/names/generate.go). Both use
//     the alphabet "bcdfghjklmnpqrstvwxz2456789" (no vowels:
//     staging/src/k8s.io/apimachinery/pkg/util/rand/rand.go). A uint32 has
//     at most 10 decimal digits; fewer than 6 is rare enough that a shorter
//     second-to-last segment is taken as part of the name;
//   - a StatefulSet's pod is <statefulset>-<ordinal>.
var podSuffix = regexp.MustCompile(`(-[bcdfghjklmnpqrstvwxz2456789]{6,10}-[bcdfghjklmnpqrstvwxz2456789]{5}|-[0-9]+)$`)

// podService returns the workload (service) a pod name belongs to: the pod
// name without the suffix its controller generated, or the name as it is
// when it has none.
func podService(pod string) string {
	if loc := podSuffix.FindStringIndex(pod); loc != nil && loc[0] > 0 {
		return pod[:loc[0]]
	}
	return pod
}
