/* SPDX-License-Identifier: BSD-2-Clause */
/* resolvers.c: the well-known public DNS and DNS-over-HTTPS resolver addresses. */
#include "resolvers.h"

#include <stdlib.h>

#include "util.h"

/*
 * Every entry is the provider's own published address list (checked
 * 2026-12); when a provider adds addresses, add a row. Prefixes are used
 * where the provider publishes a range for per-profile anycast addresses.
 *
 *   Google Public DNS  https://developers.google.com/speed/public-dns/docs/using
 *   Cloudflare 1.1.1.1 https://developers.cloudflare.com/1.1.1.1/ip-addresses/
 *                      (1.1.1.2/1.0.0.2 blocks malware, 1.1.1.3/1.0.0.3 also adult content)
 *   Quad9              https://www.quad9.net/service/service-addresses-and-features/
 *   OpenDNS (Cisco)    https://www.opendns.com/setupguide/ (Home, FamilyShield, IPv6 Sandbox)
 *   AdGuard DNS        https://adguard-dns.io/kb/general/dns-providers/ (default, family, unfiltered)
 *   NextDNS            https://nextdns.io (anycast ranges 45.90.28.0/24, 45.90.30.0/24,
 *                      2a07:a8c0::/33, 2a07:a8c1::/33; each profile gets an address in them)
 *   CleanBrowsing      https://cleanbrowsing.org/filters/ (security, adult and family filters)
 */
static const char *const resolver_list[] = {
	/* Google */
	"8.8.8.8", "8.8.4.4", "2001:4860:4860::8888", "2001:4860:4860::8844",
	/* Cloudflare */
	"1.1.1.1", "1.0.0.1", "1.1.1.2", "1.0.0.2", "1.1.1.3", "1.0.0.3",
	"2606:4700:4700::1111", "2606:4700:4700::1001", "2606:4700:4700::1112", "2606:4700:4700::1002",
	"2606:4700:4700::1113", "2606:4700:4700::1003",
	/* Quad9 */
	"9.9.9.9", "149.112.112.112", "9.9.9.10", "149.112.112.10", "9.9.9.11", "149.112.112.11",
	"2620:fe::fe", "2620:fe::9", "2620:fe::10", "2620:fe::fe:10", "2620:fe::11", "2620:fe::fe:11",
	/* OpenDNS */
	"208.67.222.222", "208.67.220.220", "208.67.222.123", "208.67.220.123",
	"2620:119:35::35", "2620:119:53::53",
	/* AdGuard */
	"94.140.14.14", "94.140.15.15", "94.140.14.15", "94.140.15.16", "94.140.14.140", "94.140.14.141",
	"2a10:50c0::ad1:ff", "2a10:50c0::ad2:ff", "2a10:50c0::bad1:ff", "2a10:50c0::bad2:ff",
	"2a10:50c0::1:ff", "2a10:50c0::2:ff",
	/* NextDNS */
	"45.90.28.0/24", "45.90.30.0/24", "2a07:a8c0::/33", "2a07:a8c1::/33",
	/* CleanBrowsing */
	"185.228.168.9", "185.228.169.9", "185.228.168.10", "185.228.169.11", "185.228.168.168",
	"185.228.169.168", "2a0d:2a00:1::2", "2a0d:2a00:2::2", "2a0d:2a00:1::1", "2a0d:2a00:2::1",
	"2a0d:2a00:1::", "2a0d:2a00:2::",
};

static ng_cidr resolver_cidr[NG_ARRAY_LEN(resolver_list)];
static bool resolver_ready;

/* Parse the table once (single-threaded daemon; a bad row aborts at the first call, which the unit test makes). */
static void resolvers_load(void)
{
	char err[128];

	for (size_t i = 0; i < NG_ARRAY_LEN(resolver_list); i++) {
		if (cidr_parse(resolver_list[i], &resolver_cidr[i], err, sizeof err) != 0)
			abort();
	}
	resolver_ready = true;
}

bool resolver_is_public_dns(const ng_addr *a)
{
	if (!resolver_ready)
		resolvers_load();
	for (size_t i = 0; i < NG_ARRAY_LEN(resolver_list); i++) {
		if (resolver_cidr[i].base.v == a->v && cidr_contains(&resolver_cidr[i], a))
			return true;
	}
	return false;
}
