package bench

import (
	"encoding/json"
	"fmt"
	"net/http"
)

// SetHeaders sets what every Users API call of make bench and make soak carries: the bearer
// token, the calling system's name, the demo tenant's codes, and a JSON content type when the
// request has a body.
func SetHeaders(req *http.Request, token, sourceSystem string, jsonBody bool) {
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("X-SourceSystem", sourceSystem)
	req.Header.Set("X-ClientCode", "demo")
	req.Header.Set("X-PaperCode", "demo")
	req.Header.Set("X-ClientGroupCode", "demo")
	if jsonBody {
		req.Header.Set("Content-Type", "application/json")
	}
}

// RegistrationID reads data.customerRegistrationId from the answer to a create (make bench and
// make soak create the users they then read).
func RegistrationID(body []byte) (string, error) {
	var env struct {
		Data struct {
			CustomerRegistrationID string `json:"customerRegistrationId"`
		} `json:"data"`
	}
	if err := json.Unmarshal(body, &env); err != nil {
		return "", err
	}
	if env.Data.CustomerRegistrationID == "" {
		return "", fmt.Errorf("no customerRegistrationId in %s", body)
	}
	return env.Data.CustomerRegistrationID, nil
}
