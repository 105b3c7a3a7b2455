package bench

import (
	"encoding/json"
	"fmt"
)

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
