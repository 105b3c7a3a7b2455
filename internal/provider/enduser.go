package provider

import (
	"context"
	"net/netip"
)

type endUserIPKey struct{}

// WithEndUserIP returns ctx carrying the IP address of the end user a call is made for, so that
// adapters can hand it to the provider's attack protection (Auth0's auth0-forwarded-for, Gigya's
// clientContext) instead of the provider counting every user's attempts against this service's
// own address. Anything that is not an IP address is ignored: the value travels to the provider
// in a header or a JSON field and must not carry anything else.
func WithEndUserIP(ctx context.Context, ip string) context.Context {
	addr, err := netip.ParseAddr(ip)
	if err != nil || addr.Zone() != "" {
		return ctx
	}
	return context.WithValue(ctx, endUserIPKey{}, addr.Unmap().String())
}

// EndUserIP is the end user's IP address WithEndUserIP put in ctx, or "".
func EndUserIP(ctx context.Context) string {
	ip, _ := ctx.Value(endUserIPKey{}).(string)
	return ip
}
