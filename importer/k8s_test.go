package importer

import "testing"

// TestPodService: a pod name less the suffix its controller generated.
func TestPodService(t *testing.T) {
	tests := []struct{ pod, want string }{
		{"frontend-579b9bff58-t2dbm", "frontend"},                // Deployment: 10-char hash
		{"currencyservice-cf787dd48-vpjrd", "currencyservice"},   // 9-char hash
		{"redis-cart-0", "redis-cart"},                           // StatefulSet ordinal
		{"api-server", "api-server"},                             // no generated suffix
		{"checkout-v2-abcdef-ghijk", "checkout-v2-abcdef-ghijk"}, // vowels: not generated
		{"frontend", "frontend"},
	}
	for _, tt := range tests {
		if got := podService(tt.pod); got != tt.want {
			t.Errorf("podService(%q) = %q; want %q", tt.pod, got, tt.want)
		}
	}
}

// TestSanitizeOp: operation names become scenario names.
func TestSanitizeOp(t *testing.T) {
	tests := []struct{ op, want string }{
		{"/search.Search/Nearby", "nearby"},
		{"hipstershop.Frontend/Recv.", "recv"},
		{"grpc.hipstershop.CurrencyService/GetSupportedCurrencies", "get-supported-currencies"},
		{"HTTP GET /hotels", "http-get-hotels"},
		{"GET /api/users/{id}", "get-api-users-id"},
		{"42", "op-42"},
	}
	for _, tt := range tests {
		if got := sanitizeOp(tt.op); got != tt.want {
			t.Errorf("sanitizeOp(%q) = %q; want %q", tt.op, got, tt.want)
		}
	}
}
