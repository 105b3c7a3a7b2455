package delivery_test

import "usersorchestrator/internal/tenant"

func testTenant() *tenant.Tenant {
	return &tenant.Tenant{
		Key:      tenant.Key{ClientCode: "CL", PaperCode: "PA", ClientGroupCode: "GR"},
		Name:     "The Daily Example",
		MailFrom: "The Daily Example <no-reply@daily.example>",
	}
}
