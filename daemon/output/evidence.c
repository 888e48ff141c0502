/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * evidence.c: keeps the first packets of every anomalous or blocklisted
 * flow in rotating classic-pcap files under state_dir/evidence/, so the
 * person can open them in Wireshark ("keep the evidence").
 *
 * DESIGN. The engine hands over every frame of a suspect flow while the
 * frame is valid; we copy it at once into the current file's stdio buffer
 * (1 MiB, libpcap's pcap_dump writes the 16-byte record header, so link
 * types and byte order are libpcap's own) and the loop's tick flushes it:
 * one write() per tick, not per packet. What each flow has written is
 * counted here, beside the flow (a table by flow id, an entry from the
 * flow's first kept frame to its end): it stops after its first 64 frames
 * or 256 KiB, so a large transfer costs one lookup per packet. The table
 * grows to TRACK_MAX flows at once; past that, new suspect flows keep no
 * frames (counted as dropped) until others end.
 *
 * Files are named evidence-YYYYMMDDTHHMMSSZ-NNNNNN.pcap after the wall
 * clock when they were started, so name order is age order, across runs
 * too. A file is closed before it would pass file_bytes (8 MiB, or a
 * quarter of the budget) or when the link type changes; after each record
 * the oldest files are deleted while the total passes the budget. The
 * total counts bytes still buffered, so what is on disk never passes it.
 *
 * The index is per file: an array of (flow id, offset, length) records in
 * file order, with the file's smallest and largest flow id. Deleting a
 * file drops its records with it; when the records pass max_records the
 * oldest files' records are dropped first (the files stay on disk but can
 * no longer be served). /flows/{id}/pcap scans the records (a few MB at
 * most, only on request) and reads the frames back with pread, checking
 * each record header, so a torn or foreign file gives fewer frames, never
 * wrong ones. Flow ids restart with each run, so files of earlier runs are
 * counted for the budget but never indexed.
 */
#include "evidence.h"

#include "platform.h"
#include <errno.h>
#include <pcap/pcap.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "config.h"
#include "http.h"
#include "log.h"
#include "setup.h"

#define IOBUF_BYTES (1024 * 1024)
#define PCAP_HDR 24
#define REC_HDR 16
#define DEAD_SNAPLEN 262144
#define RETRY_AFTER (10 * NG_USEC)
#define MAX_RECORDS_CAP (4u * 1024 * 1024)
#define NAME_PREFIX "evidence-"
#define NAME_SUFFIX ".pcap"

/* One kept frame: where its record (header and bytes) is in its file. */
struct ev_record {
	uint64_t flow_id;
	uint32_t off, len;
};

/* One evidence file on disk. */
struct ev_file {
	char *name;			/* base name in the evidence directory */
	uint64_t size;			/* bytes written or buffered */
	int dlt;			/* link type, -1 for a file of an earlier run */
	struct ev_record *recs;
	size_t nrecs, caprecs;
	uint64_t min_id, max_id;
};

/* What one flow has written so far (id 0: a free slot). */
struct ev_track {
	uint64_t flow_id;
	uint32_t bytes;
	uint32_t packets;
};

/* Flows tracked at once, at most; the table starts at TRACK_MIN slots and stays at most half full. */
#define TRACK_MIN 1024
#define TRACK_MAX (1u << 18)

struct evidence {
	struct evidence_options o;
	struct ev_track *track;		/* open addressing by flow id, linear probing */
	size_t ntrack, track_slots;
	const struct output_env *env;	/* the run, when opened as an output */
	char *dir;
	int dirfd;
	struct ev_file **files;		/* oldest first; the last is `cur` while one is open */
	size_t nfiles, capfiles;
	struct ev_file *cur;
	FILE *fp;
	pcap_t *dead;
	int dead_dlt;
	pcap_dumper_t *dumper;
	char *iobuf;
	uint64_t total;			/* bytes of all files, buffered included */
	size_t nrecords;
	unsigned seq;
	bool failing;			/* the last open or write failed: log nothing more until one works */
	ng_time retry_at;		/* monotonic: no new file before this after a failure */
	struct evidence_stats st;
};

static void file_close(struct evidence *ev);

/* Free a file's entry (not the file). */
static void ev_file_free(struct ev_file *f)
{
	if (!f)
		return;
	free(f->name);
	free(f->recs);
	free(f);
}

/* Append a file entry, newest last. */
static void files_push(struct evidence *ev, struct ev_file *f)
{
	if (ev->nfiles == ev->capfiles) {
		ev->capfiles = ev->capfiles ? ev->capfiles * 2 : 16;
		ev->files = xrealloc(ev->files, ev->capfiles * sizeof *ev->files);
	}
	ev->files[ev->nfiles++] = f;
	ev->total += f->size;
}

/* Delete the oldest file from disk and from the index. */
static void files_drop_oldest(struct evidence *ev)
{
	struct ev_file *f = ev->files[0];

	if (unlinkat(ev->dirfd, f->name, 0) != 0 && errno != ENOENT)
		log_warn("evidence: cannot delete %s/%s (no longer counted)", ev->dir, f->name);
	ev->total -= NG_MIN(ev->total, f->size);
	ev->nrecords -= f->nrecs;
	ev->st.files_deleted++;
	ev_file_free(f);
	memmove(ev->files, ev->files + 1, (ev->nfiles - 1) * sizeof *ev->files);
	ev->nfiles--;
}

/* Stay within the disk budget and the index bound (the current file is never dropped). */
static void enforce_bounds(struct evidence *ev)
{
	while (ev->total > ev->o.max_bytes && ev->nfiles > 0 && ev->files[0] != ev->cur)
		files_drop_oldest(ev);
	for (size_t i = 0; ev->nrecords > ev->o.max_records && i < ev->nfiles; i++) {
		struct ev_file *f = ev->files[i];

		if (f == ev->cur || !f->nrecs)
			continue;
		ev->nrecords -= f->nrecs;
		free(f->recs);
		f->recs = NULL;
		f->nrecs = f->caprecs = 0;
	}
}

/* qsort order of files: by name, which is by age. */
static int name_cmp(const void *x, const void *y)
{
	const struct ev_file *a = *(const struct ev_file *const *)x, *b = *(const struct ev_file *const *)y;

	return strcmp(a->name, b->name);
}

/* Count the evidence files earlier runs left, oldest first. */
static void scan_old_files(struct evidence *ev)
{
	DIR *d;
	struct dirent *de;
	int fd = dup(ev->dirfd);

	if (fd < 0 || !(d = fdopendir(fd))) {
		if (fd >= 0)
			close(fd);
		return;
	}
	while ((de = readdir(d)) != NULL) {
		struct stat sb;
		struct ev_file *f;

		if (strncmp(de->d_name, NAME_PREFIX, strlen(NAME_PREFIX)) != 0 ||
		    !str_ends_with(de->d_name, NAME_SUFFIX))
			continue;
		if (fstatat(ev->dirfd, de->d_name, &sb, AT_SYMLINK_NOFOLLOW) != 0 || !S_ISREG(sb.st_mode))
			continue;
		f = xcalloc(1, sizeof *f);
		f->name = xstrdup(de->d_name);
		f->size = (uint64_t)sb.st_size;
		f->dlt = -1;
		files_push(ev, f);
	}
	closedir(d);
	if (ev->nfiles > 1)
		qsort(ev->files, ev->nfiles, sizeof *ev->files, name_cmp);
}

struct evidence *evidence_create(const struct evidence_options *o, char *err, size_t errlen)
{
	struct evidence *ev = xcalloc(1, sizeof *ev);
	struct stat sb;
	size_t n;

	ev->o = *o;
	ev->dirfd = -1;
	ev->dead_dlt = -1;
	if (!ev->o.max_bytes)
		ev->o.max_bytes = EVIDENCE_DEFAULT_MAX_BYTES;
	if (!ev->o.file_bytes)
		ev->o.file_bytes = EVIDENCE_DEFAULT_FILE_BYTES;
	ev->o.file_bytes = NG_MAX(NG_MIN(ev->o.file_bytes, ev->o.max_bytes / 4), (uint64_t)64 * 1024);
	if (!ev->o.flow_packets)
		ev->o.flow_packets = EVIDENCE_DEFAULT_FLOW_PACKETS;
	ev->o.flow_packets = NG_MIN(ev->o.flow_packets, (uint32_t)UINT16_MAX);
	if (!ev->o.flow_bytes)
		ev->o.flow_bytes = EVIDENCE_DEFAULT_FLOW_BYTES;
	if (!ev->o.max_records)
		ev->o.max_records = (size_t)NG_MIN(NG_MAX(ev->o.max_bytes / 64, (uint64_t)65536),
						   (uint64_t)MAX_RECORDS_CAP);
	ev->o.state_dir = NULL;
	if (!o->state_dir) {
		snprintf(err, errlen, "evidence needs a state directory (give --state-dir DIR, or --evidence=no)");
		goto fail;
	}
	n = strlen(o->state_dir) + sizeof "/" EVIDENCE_SUBDIR;
	ev->dir = xmalloc(n);
	snprintf(ev->dir, n, "%s/%s", o->state_dir, EVIDENCE_SUBDIR);
	if (mkdir(ev->dir, 0700) != 0 && errno != EEXIST) {
		snprintf(err, errlen, "cannot create the evidence directory %s: %s (check --state-dir, or turn "
			 "evidence off with --evidence=no)", ev->dir, strerror(errno));
		goto fail;
	}
	ev->dirfd = open(ev->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (ev->dirfd < 0 || fstat(ev->dirfd, &sb) != 0) {
		snprintf(err, errlen, "cannot open the evidence directory %s: %s (check --state-dir, or turn "
			 "evidence off with --evidence=no)", ev->dir, strerror(errno));
		goto fail;
	}
	if (access(ev->dir, W_OK) != 0) {
		snprintf(err, errlen, "cannot write to the evidence directory %s: %s (check its owner, or turn "
			 "evidence off with --evidence=no)", ev->dir, strerror(errno));
		goto fail;
	}
	scan_old_files(ev);
	if (ev->nfiles) {
		size_t before = ev->nfiles;

		enforce_bounds(ev);
		log_info("evidence: %zu files of earlier runs in %s (%.1f MiB)%s", ev->nfiles, ev->dir,
			 (double)ev->total / (1024 * 1024),
			 before != ev->nfiles ? "; deleted the oldest beyond --evidence-mb" : "");
	}
	ev->iobuf = xmalloc(IOBUF_BYTES);
	return ev;
fail:
	evidence_destroy(ev);
	return NULL;
}

/*
 * The output's open: on unless --evidence=no, within --evidence-mb; --dump
 * keeps evidence only with an explicit --state-dir. The daemon's HTTP server
 * serves the kept packets at /flows/{id}/pcap.
 */
static void *evidence_open_env(const struct output_env *env, char *err, size_t errlen)
{
	const struct config *cfg = env->cfg;
	struct evidence_options o;
	struct evidence *ev;
	char statebuf[4096];

	if (!cfg->evidence || (env->dump && !cfg->state_dir))
		return NULL;
	memset(&o, 0, sizeof o);
	o.state_dir = setup_state_dir(cfg, statebuf, sizeof statebuf);
	o.max_bytes = cfg->evidence_mb * 1024 * 1024;
	ev = evidence_create(&o, err, errlen);
	if (!ev)
		return NULL;
	log_debug("evidence: first %u packets or %u KiB of each suspect flow into %s (%llu MiB at most)",
		  ev->o.flow_packets, ev->o.flow_bytes / 1024, ev->dir, (unsigned long long)(ev->o.max_bytes >> 20));
	ev->env = env;
	if (env->hctx)
		env->hctx->evidence = ev;
	return ev;
}

void evidence_destroy(struct evidence *ev)
{
	if (!ev)
		return;
	file_close(ev);
	if (ev->st.packets)
		log_debug("evidence: kept %llu frames of %llu flows (%.1f MiB written, %llu files deleted, %llu "
			  "frames dropped) in %s", (unsigned long long)ev->st.packets, (unsigned long long)ev->st.flows,
			  (double)ev->st.bytes / (1024 * 1024), (unsigned long long)ev->st.files_deleted,
			  (unsigned long long)ev->st.dropped, ev->dir);
	if (ev->dead)
		pcap_close(ev->dead);
	for (size_t i = 0; i < ev->nfiles; i++)
		ev_file_free(ev->files[i]);
	free(ev->files);
	if (ev->dirfd >= 0)
		close(ev->dirfd);
	free(ev->dir);
	free(ev->iobuf);
	free(ev->track);
	free(ev);
}

/* Note a failed open or write: log the first one, then retry only after a pause. */
static void note_failure(struct evidence *ev, const char *what, const char *name)
{
	if (!ev->failing)
		log_warn("evidence: cannot %s %s/%s (frames are dropped and counted until it works again)", what,
			 ev->dir, name);
	ev->failing = true;
	ev->retry_at = time_mono() + RETRY_AFTER;
}

/* Flush and close the current file; a failed flush is a write error. */
static void file_close(struct evidence *ev)
{
	bool bad;

	if (!ev->dumper)
		return;
	bad = pcap_dump_flush(ev->dumper) != 0 || ferror(ev->fp);
	if (bad)
		note_failure(ev, "write", ev->cur->name);
	pcap_dump_close(ev->dumper);	/* closes fp */
	ev->dumper = NULL;
	ev->fp = NULL;
	ev->cur = NULL;
}

/* Start a new file for link type dlt; 0, or -1 (failure noted). */
static int file_open(struct evidence *ev, int dlt)
{
	char name[96], stamp[32];
	struct ev_file *f;
	time_t now = time(NULL);
	struct tm tm;
	int fd = -1;

	file_close(ev);
	if (ev->failing && time_mono() < ev->retry_at)
		return -1;
	gmtime_r(&now, &tm);
	strftime(stamp, sizeof stamp, "%Y%m%dT%H%M%SZ", &tm);
	for (int tries = 0; tries < 1000 && fd < 0; tries++) {
		snprintf(name, sizeof name, NAME_PREFIX "%s-%06u" NAME_SUFFIX, stamp, ++ev->seq % 1000000);
		fd = openat(ev->dirfd, name, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
		if (fd < 0 && errno != EEXIST)
			break;
	}
	if (fd < 0) {
		note_failure(ev, "create", name);
		return -1;
	}
	if (!ev->dead || ev->dead_dlt != dlt) {
		if (ev->dead)
			pcap_close(ev->dead);
		ev->dead = pcap_open_dead_with_tstamp_precision(dlt, DEAD_SNAPLEN, PCAP_TSTAMP_PRECISION_MICRO);
		ev->dead_dlt = ev->dead ? dlt : -1;
	}
	ev->fp = ev->dead ? fdopen(fd, "wb") : NULL;
	if (!ev->fp) {
		close(fd);
		unlinkat(ev->dirfd, name, 0);
		note_failure(ev, "open", name);
		return -1;
	}
	setvbuf(ev->fp, ev->iobuf, _IOFBF, IOBUF_BYTES);
	ev->dumper = pcap_dump_fopen(ev->dead, ev->fp);
	if (!ev->dumper) {
		fclose(ev->fp);
		ev->fp = NULL;
		unlinkat(ev->dirfd, name, 0);
		note_failure(ev, "start", name);
		return -1;
	}
	if (ev->failing)
		log_info("evidence: writing %s/%s", ev->dir, name);
	ev->failing = false;
	f = xcalloc(1, sizeof *f);
	f->name = xstrdup(name);
	f->size = PCAP_HDR;
	f->dlt = dlt;
	f->min_id = UINT64_MAX;
	files_push(ev, f);
	ev->cur = f;
	enforce_bounds(ev);
	return 0;
}

/* The slot of a flow id: its entry, or the free slot where it would go. */
static struct ev_track *track_slot(struct ev_track *t, size_t nslots, uint64_t id)
{
	size_t i = (size_t)(id * 0x9e3779b97f4a7c15ULL) & (nslots - 1);

	while (t[i].flow_id != 0 && t[i].flow_id != id)
		i = (i + 1) & (nslots - 1);
	return &t[i];
}

/* Double the table (rehashing every entry); false when it is at TRACK_MAX already. */
static bool track_grow(struct evidence *ev)
{
	size_t n = ev->track_slots ? ev->track_slots * 2 : TRACK_MIN;
	struct ev_track *nt;

	if (n > 2 * (size_t)TRACK_MAX)
		return false;
	nt = xcalloc(n, sizeof *nt);
	for (size_t i = 0; i < ev->track_slots; i++) {
		if (ev->track[i].flow_id)
			*track_slot(nt, n, ev->track[i].flow_id) = ev->track[i];
	}
	free(ev->track);
	ev->track = nt;
	ev->track_slots = n;
	return true;
}

/* The entry of a flow, made on its first frame; NULL when the table is full. */
static struct ev_track *track_get(struct evidence *ev, uint64_t id)
{
	struct ev_track *t;

	if (ev->track_slots) {
		t = track_slot(ev->track, ev->track_slots, id);
		if (t->flow_id == id)
			return t;
	}
	if (2 * (ev->ntrack + 1) > ev->track_slots && !track_grow(ev))
		return NULL;
	t = track_slot(ev->track, ev->track_slots, id);
	t->flow_id = id;
	ev->ntrack++;
	return t;
}

/* Forget a flow's entry (backward-shift deletion keeps every probe chain whole). */
void evidence_flow_end(struct evidence *ev, uint64_t id)
{
	size_t mask = ev->track_slots - 1, i, j;
	struct ev_track *t;

	if (ev->ntrack == 0)
		return;
	t = track_slot(ev->track, ev->track_slots, id);
	if (t->flow_id != id)
		return;
	i = (size_t)(t - ev->track);
	j = i;
	for (;;) {
		size_t home;

		j = (j + 1) & mask;
		if (ev->track[j].flow_id == 0)
			break;
		home = (size_t)(ev->track[j].flow_id * 0x9e3779b97f4a7c15ULL) & mask;
		/* Move j back to i unless its home lies cyclically in (i, j]. */
		if ((j > i && (home <= i || home > j)) || (j < i && home <= i && home > j)) {
			ev->track[i] = ev->track[j];
			i = j;
		}
	}
	ev->track[i].flow_id = 0;
	ev->ntrack--;
}

bool evidence_flow_kept(const struct evidence *ev, uint64_t flow_id, uint32_t *packets, uint32_t *bytes)
{
	const struct ev_track *t;

	*packets = *bytes = 0;
	if (ev->ntrack == 0 || flow_id == 0)
		return false;
	t = track_slot(ev->track, ev->track_slots, flow_id);
	if (t->flow_id != flow_id || t->packets == 0)
		return false;
	*packets = t->packets;
	*bytes = t->bytes;
	return true;
}

void evidence_packet(struct evidence *ev, struct flow *f, int dlt, const struct capture_packet *p)
{
	struct pcap_pkthdr h;
	struct ev_file *cur;
	struct ev_record *r;
	struct ev_track *t;
	uint32_t reclen;

	t = track_get(ev, f->id);
	if (!t) {
		ev->st.dropped++;
		return;
	}
	if (t->packets >= ev->o.flow_packets || t->bytes >= ev->o.flow_bytes)
		return;
	reclen = REC_HDR + p->caplen;
	cur = ev->cur;
	if (!cur || cur->dlt != dlt || (cur->size + reclen > ev->o.file_bytes && cur->size > PCAP_HDR)) {
		if (file_open(ev, dlt) != 0) {
			ev->st.dropped++;
			return;
		}
		cur = ev->cur;
	}
	h.ts.tv_sec = (time_t)(p->ts / NG_USEC);
	h.ts.tv_usec = (suseconds_t)(p->ts % NG_USEC);
	if (h.ts.tv_usec < 0) {
		h.ts.tv_sec--;
		h.ts.tv_usec += NG_USEC;
	}
	h.caplen = p->caplen;
	h.len = p->wirelen;
	pcap_dump((u_char *)ev->dumper, &h, p->data);

	if (cur->nrecs == cur->caprecs) {
		cur->caprecs = cur->caprecs ? cur->caprecs * 2 : 1024;
		cur->recs = xrealloc(cur->recs, cur->caprecs * sizeof *cur->recs);
	}
	r = &cur->recs[cur->nrecs++];
	r->flow_id = f->id;
	r->off = (uint32_t)cur->size;
	r->len = reclen;
	cur->min_id = NG_MIN(cur->min_id, f->id);
	cur->max_id = NG_MAX(cur->max_id, f->id);
	cur->size += reclen;
	ev->total += reclen;
	ev->nrecords++;

	if (t->packets == 0)
		ev->st.flows++;
	f->evidence = 1;	/* /flows says so, and links the pcap (docs/api.md) */
	t->packets++;
	t->bytes += p->caplen;
	ev->st.packets++;
	ev->st.bytes += reclen;
	if (ev->total > ev->o.max_bytes || ev->nrecords > ev->o.max_records)
		enforce_bounds(ev);
}

void evidence_flush(struct evidence *ev)
{
	if (!ev || !ev->dumper)
		return;
	if (pcap_dump_flush(ev->dumper) != 0 || ferror(ev->fp)) {
		/* What was buffered is lost or torn: start over in a new file after a pause. */
		note_failure(ev, "write", ev->cur->name);
		clearerr(ev->fp);
		file_close(ev);
	}
}

/* Append n bytes read at off from fd to a growing buffer; 0 or -1 (short read). */
static int read_into(int fd, uint64_t off, size_t n, char **buf, size_t *len, size_t *cap)
{
	ssize_t got;

	if (*len + n > *cap) {
		*cap = NG_MAX(*cap * 2, *len + n + 4096);
		*buf = xrealloc(*buf, *cap);
	}
	got = pread(fd, *buf + *len, n, (off_t)off);
	if (got != (ssize_t)n)
		return -1;
	*len += n;
	return 0;
}

int evidence_flow_pcap(struct evidence *ev, uint64_t flow_id, char **bufp, size_t *lenp)
{
	char *buf = NULL;
	size_t len = 0, cap = 0;
	int want_dlt = -1;
	size_t frames = 0;

	if (!ev)
		return -1;
	evidence_flush(ev);
	for (size_t i = 0; i < ev->nfiles; i++) {
		struct ev_file *f = ev->files[i];
		int fd = -1;

		if (!f->nrecs || flow_id < f->min_id || flow_id > f->max_id)
			continue;
		if (want_dlt >= 0 && f->dlt != want_dlt)
			continue;
		for (size_t k = 0; k < f->nrecs; k++) {
			const struct ev_record *r = &f->recs[k];
			uint32_t incl;

			if (r->flow_id != flow_id)
				continue;
			if (fd < 0) {
				fd = openat(ev->dirfd, f->name, O_RDONLY | O_CLOEXEC);
				if (fd < 0)
					break;	/* deleted under us (by hand): serve what the others hold */
				if (len == 0) {
					if (read_into(fd, 0, PCAP_HDR, &buf, &len, &cap) != 0) {
						len = 0;
						break;
					}
					want_dlt = f->dlt;
				}
			}
			if (read_into(fd, r->off, r->len, &buf, &len, &cap) != 0) {
				break;	/* a short file (a failed write): nothing later in it is there either */
			}
			/* The record must be the one we wrote: incl_len in host order, as pcap_dump wrote it. */
			memcpy(&incl, buf + len - r->len + 8, sizeof incl);
			if (incl != r->len - REC_HDR) {
				len -= r->len;
				continue;
			}
			frames++;
		}
		if (fd >= 0)
			close(fd);
	}
	if (!frames) {
		free(buf);
		return -1;
	}
	*bufp = buf;
	*lenp = len;
	return 0;
}

void evidence_get_stats(const struct evidence *ev, struct evidence_stats *out)
{
	*out = ev->st;
	out->files = ev->nfiles;
	out->disk_bytes = ev->total;
	out->index_records = ev->nrecords;
}

cJSON *evidence_stats_json(const struct evidence *ev)
{
	struct evidence_stats s;
	cJSON *o = cJSON_CreateObject();

	memset(&s, 0, sizeof s);
	if (ev)
		evidence_get_stats(ev, &s);
	cJSON_AddBoolToObject(o, "enabled", ev != NULL);
	cJSON_AddNumberToObject(o, "flows", (double)s.flows);
	cJSON_AddNumberToObject(o, "packets", (double)s.packets);
	cJSON_AddNumberToObject(o, "bytes", (double)s.bytes);
	cJSON_AddNumberToObject(o, "files", (double)s.files);
	cJSON_AddNumberToObject(o, "disk_bytes", (double)s.disk_bytes);
	cJSON_AddNumberToObject(o, "dropped", (double)s.dropped);
	cJSON_AddNumberToObject(o, "files_deleted", (double)s.files_deleted);
	cJSON_AddNumberToObject(o, "index_records", (double)s.index_records);
	return o;
}

/* The engine's suspect frame. */
static void evidence_sink_suspect(void *arg, struct flow *f, int dlt, const struct capture_packet *p)
{
	evidence_packet(arg, f, dlt, p);
}

/* A flow ended: it writes no more frames. */
static void evidence_sink_end(void *arg, struct flow *f)
{
	evidence_flow_end(arg, f->id);
}

/* The output's tick: frames to disk. */
static void evidence_tick_cb(void *arg, ng_time wall, ng_time mono)
{
	(void)wall;
	(void)mono;
	evidence_flush(arg);
}

/* The "evidence" object of /api/stats. */
static void evidence_stats_cb(void *arg, cJSON *doc)
{
	cJSON_AddItemToObject(doc, "evidence", evidence_stats_json(arg));
}

/* The output's close: HTTP stops serving the files from this run's index, then it is freed. */
static int evidence_close_cb(void *arg)
{
	struct evidence *ev = arg;

	if (ev->env->hctx && ev->env->hctx->evidence == ev)
		ev->env->hctx->evidence = NULL;
	evidence_destroy(ev);
	return 0;
}

const struct output_type evidence_output = {
	.name = "evidence",
	.open = evidence_open_env,
	.sink = {.suspect_packet = evidence_sink_suspect, .flow_end = evidence_sink_end},
	.tick = evidence_tick_cb,
	.stats = evidence_stats_cb,
	.close = evidence_close_cb,
};
