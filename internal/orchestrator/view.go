package orchestrator

import (
	"time"

	"usersorchestrator/internal/registration"
)

// User is a user as the API shows it.
type User struct {
	CustomerRegistrationID          string
	EncryptedCustomerRegistrationID string
	Email                           string
	Verified                        bool
	State                           State
	FirstName                       *string
	LastName                        *string
	LastLogoutDate                  *time.Time
	Metadata                        map[string]string
	AddDate                         time.Time
	AddSource                       string
	ChangeDate                      time.Time
	ChangeSource                    string
}

// UserRef is the pair of ids create and verification answer with.
type UserRef struct {
	CustomerRegistrationID          string
	EncryptedCustomerRegistrationID string
}

func (o *Orchestrator) userOf(c Call, r registration.Registration) User {
	md := r.Metadata
	if md == nil {
		md = map[string]string{}
	}
	return User{
		CustomerRegistrationID:          r.CustomerRegistrationID,
		EncryptedCustomerRegistrationID: o.sealID(c, r.CustomerRegistrationID),
		Email:                           r.Email,
		Verified:                        r.Verified && !r.Pending,
		State:                           o.stateOf(c, r),
		FirstName:                       r.FirstName,
		LastName:                        r.LastName,
		LastLogoutDate:                  r.LastLogoutDate,
		Metadata:                        md,
		AddDate:                         r.AddDate,
		AddSource:                       r.AddSource,
		ChangeDate:                      r.ChangeDate,
		ChangeSource:                    r.ChangeSource,
	}
}

func (o *Orchestrator) refOf(c Call, crid string) UserRef {
	return UserRef{CustomerRegistrationID: crid, EncryptedCustomerRegistrationID: o.sealID(c, crid)}
}

func ptr[T any](v T) *T { return &v }
