/* SPDX-License-Identifier: BSD-2-Clause */
/* capture.h: packets in, from a live interface or a pcap/pcapng file, through libpcap. */
#ifndef NG_CAPTURE_H
#define NG_CAPTURE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "util.h"

/* Snap length: whole Ethernet frames with VLAN tags, so DNS answers and ClientHello segments are complete. */
#define CAPTURE_DEFAULT_SNAPLEN 1600

struct capture_options {
	const char *iface;	/* live: interface name */
	const char *file;	/* offline: path, or "-" for standard input */
	const char *filter;	/* BPF expression, or NULL */
	int snaplen;		/* 0: CAPTURE_DEFAULT_SNAPLEN */
	int buffer_mb;		/* kernel buffer for live capture; 0: 16 MiB */
	bool promisc;
};

/* One packet as the callback sees it; `data` is valid only during the callback. */
struct capture_packet {
	ng_time ts;
	const uint8_t *data;
	uint32_t caplen;
	uint32_t wirelen;
};

typedef void (*capture_cb)(void *arg, const struct capture_packet *pkt);

struct capture;

/*
 * Open a live interface (non-blocking, immediate mode) or a file. On failure
 * returns NULL with one line in err naming the interface/file and the fix
 * (no such interface, no permission and how to grant CAP_NET_RAW, a bad BPF
 * filter, a file that is not a capture, a link type netglobe cannot decode).
 */
struct capture *capture_open(const struct capture_options *opts, char *err, size_t errlen);
void capture_close(struct capture *c);

/*
 * Deliver up to `max` packets to cb. Returns the number delivered; 0 when a
 * live capture has nothing right now or a file has ended (see capture_done);
 * -1 on a read error (a truncated or corrupt file): the message is in err.
 */
int capture_dispatch(struct capture *c, int max, capture_cb cb, void *arg, char *err, size_t errlen);

/*
 * The next packet, for replays that pace themselves by packet time. Returns
 * 1 with *p filled (valid until the next call), 0 at the end of the file or
 * when a live capture has nothing now, -1 on a read error (message in err).
 */
int capture_next(struct capture *c, struct capture_packet *p, char *err, size_t errlen);

/* True once a file has been read to its end (or failed). */
bool capture_done(const struct capture *c);
/* A descriptor to poll for readability (live), or -1 (files are always ready). */
int capture_fd(const struct capture *c);
/* libpcap link type (DLT_*). */
int capture_datalink(const struct capture *c);
/* True for a live interface. */
bool capture_is_live(const struct capture *c);
/* "interface eth0" or "file x.pcap". */
const char *capture_source(const struct capture *c);

struct capture_stats {
	uint64_t received, dropped, if_dropped;	/* from pcap_stats (live only) */
};
/* Fill counters; 0, or -1 when the platform cannot tell. */
int capture_get_stats(struct capture *c, struct capture_stats *out);

/*
 * The interface to capture on when none is given: the first that is up, not
 * loopback, and has an IPv4 or IPv6 address. Writes its name into buf; 0 or -1
 * with the reason in err.
 */
int capture_default_interface(char *buf, size_t len, char *err, size_t errlen);

/*
 * -D: the interfaces libpcap can capture on, numbered, as tcpdump -D prints
 * them ("1.eth0 (description) [Up, Running, Connected]"; on Windows the
 * description starts with the adapter's friendly name). 0, or -1 with the
 * reason in err (no interface at all is an error: it says what to check).
 */
int capture_list_interfaces(FILE *out, char *err, size_t errlen);

/*
 * The name libpcap opens for -i arg, into buf: a name libpcap lists, the
 * number -D gives it, or another name the system knows the adapter by
 * (platform_iface_lookup: on Windows its friendly name or GUID). 0, or -1
 * with one line in err that names arg and points at netglobe -D.
 */
int capture_resolve_interface(const char *arg, char *buf, size_t len, char *err, size_t errlen);

#endif
