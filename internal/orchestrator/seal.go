package orchestrator

import "strings"

// Purposes of sealed values: a value sealed for one never opens as another.
const (
	purposeID             = "customerRegistrationId"
	purposeEmail          = "email"
	purposeForgotPassword = "forgotPassword"
	purposeVerifyCode     = "verificationCode"
)

// The tenant is sealed with the value, so an id encrypted for one newspaper is refused by another.
func (o *Orchestrator) seal(c Call, purpose, value string) string {
	return o.Sealer.Seal(purpose, []byte(c.Tenant.Key.String()+"\x00"+value))
}

func (o *Orchestrator) open(c Call, purpose, sealed string) (string, error) {
	plain, err := o.Sealer.Open(purpose, sealed)
	if err != nil {
		return "", ErrInvalidEncrypted
	}
	prefix := c.Tenant.Key.String() + "\x00"
	value, ok := strings.CutPrefix(string(plain), prefix)
	if !ok || value == "" {
		return "", ErrInvalidEncrypted
	}
	return value, nil
}

func (o *Orchestrator) sealID(c Call, crid string) string { return o.seal(c, purposeID, crid) }

// SealEmail encrypts an email address as the encryptedEmail selector expects it. The service
// hands these out in links it builds; tests and tools use it to make one.
func (o *Orchestrator) SealEmail(c Call, email string) string {
	return o.seal(c, purposeEmail, strings.ToLower(email))
}
