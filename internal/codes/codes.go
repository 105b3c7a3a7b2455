// Package codes is the one catalogue of the message codes the service answers with: each code's
// HTTP status and exact text. openapi.yaml documents the same table (MessageCode and its x-codes);
// codes_test.go fails when the two disagree.
package codes

import "strings"

// Code is a message code, as sent in message.code.
type Code string

// The codes, named after their suffix so that a reader finds them as the contract spells them.
//
//nolint:revive // underscores keep the names identical to the published codes.
const (
	S200_01          Code = "UsersOrchestrator_S200_01"
	S200_06          Code = "UsersOrchestrator_S200_06"
	S200_07          Code = "UsersOrchestrator_S200_07"
	S200_08          Code = "UsersOrchestrator_S200_08"
	S200_09          Code = "UsersOrchestrator_S200_09"
	S200_10          Code = "UsersOrchestrator_S200_10"
	S200_11          Code = "UsersOrchestrator_S200_11"
	S200_12          Code = "UsersOrchestrator_S200_12"
	S200_13          Code = "UsersOrchestrator_S200_13"
	S200_14          Code = "UsersOrchestrator_S200_14"
	SubscribeS200_01 Code = "Subscribe_S200_01"
	E400             Code = "UsersOrchestrator_E400"
	E400_00          Code = "UsersOrchestrator_E400_00"
	E400_02          Code = "UsersOrchestrator_E400_02"
	E400_07          Code = "UsersOrchestrator_E400_07"
	E400_08          Code = "UsersOrchestrator_E400_08"
	E400_09          Code = "UsersOrchestrator_E400_09"
	E400_10          Code = "UsersOrchestrator_E400_10"
	E400_11          Code = "UsersOrchestrator_E400_11"
	E400_12          Code = "UsersOrchestrator_E400_12"
	E400_13          Code = "UsersOrchestrator_E400_13"
	E400_14          Code = "UsersOrchestrator_E400_14"
	E400_15          Code = "UsersOrchestrator_E400_15"
	E400_16          Code = "UsersOrchestrator_E400_16"
	E400_17          Code = "UsersOrchestrator_E400_17"
	E400_22          Code = "UsersOrchestrator_E400_22"
	E400_23          Code = "UsersOrchestrator_E400_23"
	E401             Code = "UsersOrchestrator_E401"
	E403             Code = "UsersOrchestrator_E403"
	E404             Code = "UsersOrchestrator_E404"
	E404_01          Code = "UsersOrchestrator_E404_01"
	E413             Code = "UsersOrchestrator_E413"
	E429             Code = "UsersOrchestrator_E429"
	E500             Code = "UsersOrchestrator_E500"
	E500_01          Code = "UsersOrchestrator_E500_01"
	E500_02          Code = "UsersOrchestrator_E500_02"
	E500_03          Code = "UsersOrchestrator_E500_03"
	E500_04          Code = "UsersOrchestrator_E500_04"
	E500_05          Code = "UsersOrchestrator_E500_05"
	E500_06          Code = "UsersOrchestrator_E500_06"
	E500_07          Code = "UsersOrchestrator_E500_07"
	E503             Code = "UsersOrchestrator_E503"
)

// Entry is one row of the catalogue.
type Entry struct {
	Code   Code
	Status int
	// Text is the exact text; a text ending in "{Message}" is completed by TextWith.
	Text string
	// Published is false for the codes this project added to Naviga's published ones.
	Published bool
}

// detailPlaceholder is completed with what was wrong with a request.
const detailPlaceholder = "{Message}"

var catalogue = []Entry{
	{S200_01, 200, "Get completed.", false},
	{S200_06, 200, "Create completed.", true},
	{S200_07, 200, "Update completed.", false},
	{S200_08, 200, "Start ForgotPassword completed.", true},
	{S200_09, 200, "Validity ForgotPassword completed.", false},
	{S200_10, 200, "Finish ForgotPassword completed.", false},
	{S200_11, 200, "Update password completed.", true},
	{S200_12, 200, "Update Email completed.", true},
	{S200_13, 200, "Verify Email completed.", true},
	{S200_14, 200, "Send Verification Code completed.", false},
	{SubscribeS200_01, 200, "Request processed successfully.", true},
	{E400, 400, "Bad Request", true},
	{E400_00, 400, "Invalid InputModel - " + detailPlaceholder, true},
	{E400_02, 400, "Invalid InputModel", true},
	{E400_07, 400, "The entered email address is still pending for verification.", true},
	{E400_08, 400, "The email is already in use by another user.", true},
	{E400_09, 400, "The metadata is invalid.", true},
	{E400_10, 400, "Invalid login name or password.", false},
	{E400_11, 400, "The user is not verified.", false},
	{E400_12, 400, "The user has no password.", false},
	{E400_13, 400, "The token is invalid or expired.", false},
	{E400_14, 400, "The email is not registered.", true},
	{E400_15, 400, "The verification code is invalid.", true},
	{E400_16, 400, "Email is already verified.", true},
	{E400_17, 400, "Metadata Key or Value cannot contain more than 100 characters.", true},
	{E400_22, 400, "There was an error trying to update the user.", true},
	{E400_23, 400, "The customer registration id already exists.", true},
	{E401, 401, "Unauthorized", false},
	{E403, 403, "Forbidden", false},
	{E404, 404, "Not Found", false},
	{E404_01, 404, "The user was not found.", false},
	{E413, 413, "Request Entity Too Large", false},
	{E429, 429, "Too Many Requests", false},
	{E500, 500, "Internal Server Error", true},
	{E500_01, 500, "There was a problem during the GetById workflow.", true},
	{E500_02, 500, "There was a problem during the Get workflow.", true},
	{E500_03, 500, "There was a problem during the Create workflow.", false},
	{E500_04, 500, "There was a problem during the Update workflow.", false},
	{E500_05, 500, "There was a problem during the Authentication workflow.", false},
	{E500_06, 500, "There was a problem during the ForgotPassword workflow.", false},
	{E500_07, 500, "There was a problem during the Verification workflow.", false},
	{E503, 503, "A provider is unavailable.", false},
}

var byCode = func() map[Code]Entry {
	m := make(map[Code]Entry, len(catalogue))
	for _, e := range catalogue {
		m[e.Code] = e
	}
	return m
}()

// All returns every entry of the catalogue, in the contract's order.
func All() []Entry { return append([]Entry(nil), catalogue...) }

// Lookup returns the entry of c and whether c is in the catalogue.
func Lookup(c Code) (Entry, bool) {
	e, ok := byCode[c]
	return e, ok
}

// Status is the HTTP status the code is answered with; 500 for a code not in the catalogue.
func (c Code) Status() int {
	if e, ok := byCode[c]; ok {
		return e.Status
	}
	return 500
}

// Text is the code's text as catalogued (with "{Message}" left in place).
func (c Code) Text() string { return byCode[c].Text }

// TextWith completes a text that ends in "{Message}" with detail; other texts are returned as they are.
func (c Code) TextWith(detail string) string {
	t := byCode[c].Text
	if strings.HasSuffix(t, detailPlaceholder) {
		return strings.TrimSuffix(t, detailPlaceholder) + detail
	}
	return t
}

// IsSuccess tells a success code from an error code.
func (c Code) IsSuccess() bool { return c.Status() < 300 }
