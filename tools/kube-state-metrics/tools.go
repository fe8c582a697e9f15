// Keeps kube-state-metrics in this module's requirements (go mod tidy).
//go:build tools

package tools

import _ "k8s.io/kube-state-metrics/v2"
