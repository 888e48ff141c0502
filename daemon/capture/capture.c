/* SPDX-License-Identifier: BSD-2-Clause */
/* capture.c: libpcap live and offline capture, with error messages that say what to do. */
#include "capture.h"

#include <errno.h>
#include <limits.h>
#include <pcap/pcap.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "platform.h"

#include "decode.h"

#define CAPTURE_FILE_BUFFER 32768

struct capture {
	pcap_t *pcap;
	bool live;
	bool done;
	int dlt;
	int fd;
	char source[300];
	uint64_t delivered;
	char *iobuf;		/* stdio buffer of a file capture; freed after pcap_close */
	/* The callback and its argument during one pcap_dispatch. */
	capture_cb cb;
	void *cb_arg;
};

/* The hint that follows "no permission to capture". */
static const char perm_hint[] =
	"run as root, or grant the capability once: sudo setcap cap_net_raw,cap_net_admin=eip PATH-TO-netglobe";

/* Compile and install a BPF filter; 0 or -1 with the message in err. */
static int capture_set_filter(struct capture *c, const char *filter, char *err, size_t errlen)
{
	struct bpf_program prog;

	if (!filter || !*filter)
		return 0;
	if (pcap_compile(c->pcap, &prog, filter, 1, PCAP_NETMASK_UNKNOWN) != 0) {
		snprintf(err, errlen, "bad BPF filter '%s': %s (see man 7 pcap-filter)", filter, pcap_geterr(c->pcap));
		return -1;
	}
	if (pcap_setfilter(c->pcap, &prog) != 0) {
		snprintf(err, errlen, "cannot install BPF filter '%s': %s", filter, pcap_geterr(c->pcap));
		pcap_freecode(&prog);
		return -1;
	}
	pcap_freecode(&prog);
	return 0;
}

/* Explain a pcap_activate failure in one line. */
static void activate_error(pcap_t *p, int rc, const char *iface, char *err, size_t errlen)
{
	switch (rc) {
	case PCAP_ERROR_NO_SUCH_DEVICE:
		snprintf(err, errlen, "no capture interface '%s' (list them with: netglobe -D)", iface);
		break;
	case PCAP_ERROR_PERM_DENIED:
		snprintf(err, errlen, "no permission to capture on '%s': %s", iface, perm_hint);
		break;
	case PCAP_ERROR_IFACE_NOT_UP:
		snprintf(err, errlen, "interface '%s' is down (bring it up with: ip link set %s up)", iface, iface);
		break;
	case PCAP_ERROR_PROMISC_PERM_DENIED:
		snprintf(err, errlen, "no permission for promiscuous mode on '%s': %s", iface, perm_hint);
		break;
	default:
		snprintf(err, errlen, "cannot capture on '%s': %s", iface, pcap_geterr(p));
		break;
	}
}

/* Open a live interface. */
static struct capture *capture_open_live(const struct capture_options *o, char *err, size_t errlen)
{
	char ebuf[PCAP_ERRBUF_SIZE] = "";
	struct capture *c;
	int rc;

	c = xcalloc(1, sizeof *c);
	c->live = true;
	c->fd = -1;
	snprintf(c->source, sizeof c->source, "interface %s", o->iface);
	c->pcap = pcap_create(o->iface, ebuf);
	if (!c->pcap) {
		snprintf(err, errlen, "cannot capture on '%s': %s", o->iface, ebuf);
		goto fail;
	}
	pcap_set_snaplen(c->pcap, o->snaplen > 0 ? o->snaplen : CAPTURE_DEFAULT_SNAPLEN);
	pcap_set_promisc(c->pcap, o->promisc ? 1 : 0);
	pcap_set_immediate_mode(c->pcap, 1);
	pcap_set_buffer_size(c->pcap, (int)NG_MIN((size_t)(o->buffer_mb > 0 ? o->buffer_mb : 16) << 20, (size_t)INT_MAX));
	pcap_set_tstamp_precision(c->pcap, PCAP_TSTAMP_PRECISION_MICRO);
	rc = pcap_activate(c->pcap);
	if (rc < 0) {
		activate_error(c->pcap, rc, o->iface, err, errlen);
		goto fail;
	}
	if (pcap_setnonblock(c->pcap, 1, ebuf) != 0) {
		snprintf(err, errlen, "cannot make capture on '%s' non-blocking: %s", o->iface, ebuf);
		goto fail;
	}
	c->dlt = pcap_datalink(c->pcap);
	if (!decode_supports_dlt(c->dlt)) {
		snprintf(err, errlen, "interface '%s' has link type %s, which netglobe cannot decode (pick another with -i)",
			 o->iface, pcap_datalink_val_to_name(c->dlt) ? pcap_datalink_val_to_name(c->dlt) : "?");
		goto fail;
	}
	if (capture_set_filter(c, o->filter, err, errlen) != 0)
		goto fail;
	c->fd = pcap_get_selectable_fd(c->pcap);
	return c;
fail:
	capture_close(c);
	return NULL;
}

/* Open a pcap or pcapng file (or standard input for "-"). */
static struct capture *capture_open_file(const struct capture_options *o, char *err, size_t errlen)
{
	char ebuf[PCAP_ERRBUF_SIZE] = "";
	struct capture *c;

	c = xcalloc(1, sizeof *c);
	c->fd = -1;
	snprintf(c->source, sizeof c->source, "file %s", strcmp(o->file, "-") == 0 ? "(standard input)" : o->file);
	if (strcmp(o->file, "-") != 0 && access(o->file, R_OK) != 0) {
		snprintf(err, errlen, "cannot read capture file %s: %s", o->file, strerror(errno));
		goto fail;
	}
	if (strcmp(o->file, "-") == 0) {
		c->pcap = pcap_open_offline_with_tstamp_precision(o->file, PCAP_TSTAMP_PRECISION_MICRO, ebuf);
	} else {
		/*
		 * Our own FILE with a 32 KiB buffer: libpcap's default reads 4 KiB per
		 * system call; 1 MiB made the kernel's copy miss the cache (measured: 3x
		 * the system time), 16-32 KiB was fastest.
		 */
		FILE *fp = fopen(o->file, "rb");

		if (!fp) {
			snprintf(err, errlen, "cannot read capture file %s: %s", o->file, strerror(errno));
			goto fail;
		}
		c->iobuf = xmalloc(CAPTURE_FILE_BUFFER);
		setvbuf(fp, c->iobuf, _IOFBF, CAPTURE_FILE_BUFFER);
		c->pcap = pcap_fopen_offline_with_tstamp_precision(fp, PCAP_TSTAMP_PRECISION_MICRO, ebuf);
		if (!c->pcap)
			fclose(fp);
	}
	if (!c->pcap) {
		snprintf(err, errlen, "cannot read capture file %s: %s (is it a pcap or pcapng file?)", o->file, ebuf);
		goto fail;
	}
	c->dlt = pcap_datalink(c->pcap);
	if (!decode_supports_dlt(c->dlt)) {
		const char *name = pcap_datalink_val_to_name(c->dlt);

		snprintf(err, errlen,
			 "capture file %s has link type %s (%d), which netglobe cannot decode "
			 "(supported: EN10MB with VLAN, LINUX_SLL, LINUX_SLL2, NULL, LOOP, RAW, IPV4, IPV6)",
			 o->file, name ? name : "unknown", c->dlt);
		goto fail;
	}
	if (capture_set_filter(c, o->filter, err, errlen) != 0)
		goto fail;
	return c;
fail:
	capture_close(c);
	return NULL;
}

struct capture *capture_open(const struct capture_options *opts, char *err, size_t errlen)
{
	if (opts->file)
		return capture_open_file(opts, err, errlen);
	return capture_open_live(opts, err, errlen);
}

void capture_close(struct capture *c)
{
	if (!c)
		return;
	if (c->pcap)
		pcap_close(c->pcap);
	free(c->iobuf);
	free(c);
}

/*
 * A packet's time in microseconds. A capture file may say anything (pcapng
 * offsets and resolutions reach past the year 294,000, where seconds times
 * 10^6 overflows): times are held within +-2^62 us (146,000 years), which
 * also keeps the differences the flow table takes of them in range.
 */
static ng_time packet_time(const struct timeval *tv)
{
	const int64_t lim_sec = ((int64_t)1 << 62) / NG_USEC;

	if ((int64_t)tv->tv_sec >= lim_sec)
		return (ng_time)lim_sec * NG_USEC;
	if ((int64_t)tv->tv_sec <= -lim_sec)
		return -(ng_time)lim_sec * NG_USEC;
	return (ng_time)tv->tv_sec * NG_USEC + tv->tv_usec;
}

/* libpcap's callback: convert the header and hand the packet on. */
static void capture_handler(u_char *user, const struct pcap_pkthdr *h, const u_char *bytes)
{
	struct capture *c = (struct capture *)user;
	struct capture_packet p;

	p.ts = packet_time(&h->ts);
	p.data = bytes;
	p.caplen = h->caplen;
	p.wirelen = h->len;
	c->delivered++;
	c->cb(c->cb_arg, &p);
}

int capture_dispatch(struct capture *c, int max, capture_cb cb, void *arg, char *err, size_t errlen)
{
	int n;

	if (c->done)
		return 0;
	c->cb = cb;
	c->cb_arg = arg;
	n = pcap_dispatch(c->pcap, max, capture_handler, (u_char *)c);
	if (n == PCAP_ERROR) {
		if (c->live)
			snprintf(err, errlen, "capture on %s failed: %s", c->source + 10, pcap_geterr(c->pcap));
		else
			snprintf(err, errlen, "capture %s is truncated or corrupt after packet %llu: %s (the packets before it were used)",
				 c->source, (unsigned long long)c->delivered, pcap_geterr(c->pcap));
		c->done = true;
		return -1;
	}
	if (n == PCAP_ERROR_BREAK)
		return 0;
	if (!c->live && n == 0)
		c->done = true;
	return n;
}

int capture_next(struct capture *c, struct capture_packet *p, char *err, size_t errlen)
{
	struct pcap_pkthdr *h;
	const u_char *data;
	int rc;

	if (c->done)
		return 0;
	rc = pcap_next_ex(c->pcap, &h, &data);
	if (rc == 1) {
		p->ts = packet_time(&h->ts);
		p->data = data;
		p->caplen = h->caplen;
		p->wirelen = h->len;
		c->delivered++;
		return 1;
	}
	if (rc == 0)
		return 0;	/* live: nothing yet */
	c->done = true;
	if (rc == PCAP_ERROR_BREAK)
		return 0;	/* end of file */
	snprintf(err, errlen, "capture %s is truncated or corrupt after packet %llu: %s (the packets before it were used)",
		 c->source, (unsigned long long)c->delivered, pcap_geterr(c->pcap));
	return -1;
}

bool capture_done(const struct capture *c)
{
	return c->done;
}

int capture_fd(const struct capture *c)
{
	return c->fd;
}

int capture_datalink(const struct capture *c)
{
	return c->dlt;
}

bool capture_is_live(const struct capture *c)
{
	return c->live;
}

const char *capture_source(const struct capture *c)
{
	return c->source;
}

int capture_get_stats(struct capture *c, struct capture_stats *out)
{
	struct pcap_stat ps;

	memset(out, 0, sizeof *out);
	if (!c->live)
		return 0;
	if (pcap_stats(c->pcap, &ps) != 0)
		return -1;
	out->received = ps.ps_recv;
	out->dropped = ps.ps_drop;
	out->if_dropped = ps.ps_ifdrop;
	return 0;
}

int capture_default_interface(char *buf, size_t len, char *err, size_t errlen)
{
	struct ifaddrs *ifs, *ifa;
	int rc = -1;

	if (getifaddrs(&ifs) != 0) {
		snprintf(err, errlen, "cannot list network interfaces: %s (name one with -i IFACE)", strerror(errno));
		return -1;
	}
	/* getifaddrs lists interfaces in kernel order; take the first usable one. */
	for (ifa = ifs; ifa; ifa = ifa->ifa_next) {
		if (!ifa->ifa_addr || !(ifa->ifa_flags & IFF_UP) || (ifa->ifa_flags & IFF_LOOPBACK))
			continue;
		if (ifa->ifa_addr->sa_family != AF_INET && ifa->ifa_addr->sa_family != AF_INET6)
			continue;
		snprintf(buf, len, "%s", ifa->ifa_name);
		rc = 0;
		break;
	}
	freeifaddrs(ifs);
	if (rc != 0)
		snprintf(err, errlen, "no interface is up with an address besides loopback (name one with -i IFACE, e.g. -i lo)");
	return rc;
}

/* The interfaces libpcap lists, or NULL with the reason in err (an empty list included). */
static pcap_if_t *capture_devices(char *err, size_t errlen)
{
	char ebuf[PCAP_ERRBUF_SIZE] = "";
	pcap_if_t *devs = NULL;
	const char *hint = platform_no_iface_hint();

	if (pcap_findalldevs(&devs, ebuf) != 0) {
		snprintf(err, errlen, "cannot list capture interfaces: %s", ebuf);
		return NULL;
	}
	if (!devs)
		snprintf(err, errlen, "no capture interfaces found%s%s", *hint ? ": " : "", hint);
	return devs;
}

/* tcpdump -D's bracket: the flags, then the connection status where it applies. */
static void print_iface_flags(FILE *out, bpf_u_int32 flags)
{
	static const struct {
		bpf_u_int32 bit;
		const char *name;
	} names[] = {
		{PCAP_IF_UP, "Up"},
		{PCAP_IF_RUNNING, "Running"},
		{PCAP_IF_LOOPBACK, "Loopback"},
		{PCAP_IF_WIRELESS, "Wireless"},
	};
	bool wireless = flags & PCAP_IF_WIRELESS;
	const char *sep = "";

	fputs(" [", out);
	for (size_t i = 0; i < NG_ARRAY_LEN(names); i++) {
		if (flags & names[i].bit) {
			fprintf(out, "%s%s", sep, names[i].name);
			sep = ", ";
		}
	}
	if (!*sep)
		fputs("none", out);
	switch (flags & PCAP_IF_CONNECTION_STATUS) {
	case PCAP_IF_CONNECTION_STATUS_UNKNOWN:
		fputs(wireless ? ", Association status unknown" : ", Connection status unknown", out);
		break;
	case PCAP_IF_CONNECTION_STATUS_CONNECTED:
		fputs(wireless ? ", Associated" : ", Connected", out);
		break;
	case PCAP_IF_CONNECTION_STATUS_DISCONNECTED:
		fputs(wireless ? ", Not associated" : ", Disconnected", out);
		break;
	default:
		break;
	}
	fputs("]\n", out);
}

int capture_list_interfaces(FILE *out, char *err, size_t errlen)
{
	pcap_if_t *devs = capture_devices(err, errlen);
	char friendly[256];
	unsigned n = 0;

	if (!devs)
		return -1;
	for (pcap_if_t *d = devs; d; d = d->next) {
		bool named = platform_iface_friendly(d->name, friendly, sizeof friendly);

		fprintf(out, "%u.%s", ++n, d->name);
		if (named && d->description)
			fprintf(out, " (%s: %s)", friendly, d->description);
		else if (named || d->description)
			fprintf(out, " (%s)", named ? friendly : d->description);
		print_iface_flags(out, d->flags);
	}
	pcap_freealldevs(devs);
	return 0;
}

/* arg as -D's number (1 and up), or 0 when it is not all digits. */
static unsigned iface_number(const char *arg)
{
	unsigned long v;
	char *end;

	if (*arg < '1' || *arg > '9')
		return 0;
	errno = 0;
	v = strtoul(arg, &end, 10);
	return *end || errno || v > UINT_MAX ? 0 : (unsigned)v;
}

int capture_resolve_interface(const char *arg, char *buf, size_t len, char *err, size_t errlen)
{
	char lerr[512];
	unsigned want = iface_number(arg), n = 0;
	const char *hit = NULL;
	pcap_if_t *devs;
	int rc = 0;

	/*
	 * A name first: the system's other names for an adapter, else libpcap's
	 * own list. The list is read only when needed (a number, or a name the
	 * system does not know): on Linux it probes every socket family.
	 */
	if (!want) {
		rc = platform_iface_lookup(arg, buf, len);
		if (rc == 0)
			snprintf(buf, len, "%s", arg);
		if (rc >= 0)
			return 0;
	}
	devs = capture_devices(lerr, sizeof lerr);
	/* A listed name (an interface may be called "1"), then -D's number. */
	for (pcap_if_t *d = devs; d && !hit; d = d->next)
		if (strcmp(d->name, arg) == 0)
			hit = d->name;
	for (pcap_if_t *d = devs; d && !hit && want; d = d->next)
		if (++n == want)
			hit = d->name;
	if (hit)
		snprintf(buf, len, "%s", hit);
	else if (want)
		snprintf(err, errlen, "no capture interface number %u (%u listed; see them with: netglobe -D)", want, n);
	else
		snprintf(err, errlen, "no capture interface '%s' (list them with: netglobe -D)", arg);
	if (devs)
		pcap_freealldevs(devs);
	return hit ? 0 : -1;
}
