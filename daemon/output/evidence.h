/* SPDX-License-Identifier: BSD-2-Clause */
/* evidence.h: the first packets of anomalous and blocklisted flows, kept in rotating pcap files. */
#ifndef NG_EVIDENCE_H
#define NG_EVIDENCE_H

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "capture.h"
#include "flow.h"
#include "output.h"
#include "util.h"

/* Defaults for the zero fields of struct evidence_options (docs/alerts.md). */
#define EVIDENCE_DEFAULT_MAX_BYTES (64ULL * 1024 * 1024)
#define EVIDENCE_DEFAULT_FILE_BYTES (8ULL * 1024 * 1024)
#define EVIDENCE_DEFAULT_FLOW_PACKETS 64
#define EVIDENCE_DEFAULT_FLOW_BYTES (256 * 1024)
#define EVIDENCE_SUBDIR "evidence"

struct evidence_options {
	const char *state_dir;		/* files go to state_dir/evidence/ (created, mode 0700) */
	uint64_t max_bytes;		/* disk budget for all evidence files (--evidence-mb) */
	uint64_t file_bytes;		/* start a new file before one passes this (at most max_bytes / 4) */
	uint32_t flow_packets;		/* a flow's first packets kept ... */
	uint32_t flow_bytes;		/* ... until it has this many bytes kept (the frame crossing it is kept whole) */
	size_t max_records;		/* bound on the in-memory index; 0: max_bytes / 64, at most 4M */
};

struct evidence;

/*
 * Create state_dir/evidence/, account for the files earlier runs left there
 * (deleting the oldest beyond the budget). Files are opened only when the
 * first suspect packet arrives. NULL and one line in err on failure.
 */
struct evidence *evidence_create(const struct evidence_options *o, char *err, size_t errlen);
/* Flush and close the current file, free the index (the files stay). */
void evidence_destroy(struct evidence *ev);

/*
 * A frame of a flow whose verdict is anomalous or blocklisted (the engine's
 * suspect_packet hook): copied into the current file's stdio buffer when the
 * flow is still under its packet and byte limits (counted per flow until
 * the flow ends: evidence_flow_kept). No allocation or system call per
 * frame except when a file is started or deleted, or the count table grows.
 */
void evidence_packet(struct evidence *ev, struct flow *f, int dlt, const struct capture_packet *p);

/* A flow ended: forget its count (the output's flow_end hook). */
void evidence_flow_end(struct evidence *ev, uint64_t flow_id);
/* Frames and bytes kept of a flow that has not ended yet; false when none. */
bool evidence_flow_kept(const struct evidence *ev, uint64_t flow_id, uint32_t *packets, uint32_t *bytes);

/* Write buffered frames to disk (the loop's tick); a write error is logged once and counted. */
void evidence_flush(struct evidence *ev);

/*
 * A pcap of what is still kept of flow `flow_id` (of this process): the
 * file header and the flow's records, read back from the files that still
 * exist. 0 with *buf (the caller frees it) and *len, or -1 when nothing is
 * kept (HTTP 404).
 */
int evidence_flow_pcap(struct evidence *ev, uint64_t flow_id, char **buf, size_t *len);

struct evidence_stats {
	uint64_t flows;			/* flows with at least one frame kept */
	uint64_t packets, bytes;	/* frames and bytes written (record headers included) */
	uint64_t dropped;		/* frames lost to open or write errors */
	uint64_t files;			/* evidence files on disk now (this run's and earlier ones) */
	uint64_t disk_bytes;		/* their total size */
	uint64_t files_deleted;		/* deleted to stay within the budget */
	uint64_t index_records;		/* frames /flows/{id}/pcap can serve */
};
void evidence_get_stats(const struct evidence *ev, struct evidence_stats *out);
/* The "evidence" object of /api/stats (caller owns it); a NULL `ev` gives {"enabled": false, zeros}. */
cJSON *evidence_stats_json(const struct evidence *ev);

/* The row of the output table: the first frames of suspect flows, served at /flows/{id}/pcap. */
extern const struct output_type evidence_output;

#endif
