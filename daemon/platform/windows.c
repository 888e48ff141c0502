/* SPDX-License-Identifier: BSD-2-Clause */
/* windows.c: the platform layer on Windows (mingw-w64): sockets, files, interfaces, signals, Npcap loaded at run time. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "platform.h"

#include <windows.h>
#include <bcrypt.h>
#include <iphlpapi.h>
#include <aclapi.h>
#include <shlobj.h>
#include <pcap/pcap.h>

#include "log.h"
#include "privs.h"
#include "util.h"

/*
 * DESIGN. Npcap may not be redistributed, so netglobe.exe is not linked
 * against wpcap.dll: it is compiled against libpcap's own headers and this
 * file defines every pcap_* function the rest calls as a forwarder to the
 * function of the same name in wpcap.dll, looked up once with
 * GetProcAddress. wpcap.dll is loaded on first use from Npcap's folder
 * (System32\Npcap, set with SetDllDirectory; Windows then searches its usual
 * places, where Wine finds its builtin wpcap.dll). When it is missing, the
 * open functions fail with one line that names Npcap's download page, and
 * the rest are never reached (they need a pcap_t).
 */

#define NPCAP_HINT "wpcap.dll not found: install Npcap from https://npcap.com/#download and start netglobe again"

static HMODULE wpcap;
static bool wpcap_tried;

/* Load wpcap.dll once (Npcap's folder first); NULL when it is not installed. */
static HMODULE wpcap_load(void)
{
	if (!wpcap_tried) {
		char dir[MAX_PATH];
		UINT n = GetSystemDirectoryA(dir, sizeof dir);

		wpcap_tried = true;
		if (n > 0 && n < sizeof dir - sizeof "\\Npcap") {
			strcat(dir, "\\Npcap");
			SetDllDirectoryA(dir);
		}
		wpcap = LoadLibraryA("wpcap.dll");
		SetDllDirectoryA(NULL);
	}
	return wpcap;
}

/* The address of a wpcap.dll function, or NULL (no DLL, or an older Npcap without it). */
static FARPROC wpcap_sym(const char *name)
{
	HMODULE h = wpcap_load();

	return h ? GetProcAddress(h, name) : NULL;
}

/* Declare a cached pointer to NAME's implementation in wpcap.dll, of type RET (*)(ARGS). */
#define WPCAP_FN(ret, name, args)                                            \
	static ret(*name##_fn) args;                                         \
	static bool name##_init(void)                                        \
	{                                                                    \
		if (name##_fn == NULL)                                       \
			name##_fn = (ret(*) args)(void (*)(void))wpcap_sym(#name); \
		return name##_fn != NULL;                                    \
	}

/* Write the one-line "install Npcap" error into a pcap error buffer. */
static void wpcap_missing(char *ebuf, const char *name)
{
	if (wpcap_load() == NULL)
		snprintf(ebuf, PCAP_ERRBUF_SIZE, "%s", NPCAP_HINT);
	else
		snprintf(ebuf, PCAP_ERRBUF_SIZE, "this wpcap.dll has no %s: update Npcap from https://npcap.com/#download", name);
}

WPCAP_FN(pcap_t *, pcap_create, (const char *, char *))
WPCAP_FN(int, pcap_activate, (pcap_t *))
WPCAP_FN(void, pcap_close, (pcap_t *))
WPCAP_FN(int, pcap_compile, (pcap_t *, struct bpf_program *, const char *, int, bpf_u_int32))
WPCAP_FN(void, pcap_freecode, (struct bpf_program *))
WPCAP_FN(int, pcap_setfilter, (pcap_t *, struct bpf_program *))
WPCAP_FN(int, pcap_datalink, (pcap_t *))
WPCAP_FN(const char *, pcap_datalink_val_to_name, (int))
WPCAP_FN(int, pcap_dispatch, (pcap_t *, int, pcap_handler, u_char *))
WPCAP_FN(int, pcap_next_ex, (pcap_t *, struct pcap_pkthdr **, const u_char **))
WPCAP_FN(char *, pcap_geterr, (pcap_t *))
WPCAP_FN(int, pcap_set_buffer_size, (pcap_t *, int))
WPCAP_FN(int, pcap_set_immediate_mode, (pcap_t *, int))
WPCAP_FN(int, pcap_set_promisc, (pcap_t *, int))
WPCAP_FN(int, pcap_set_snaplen, (pcap_t *, int))
WPCAP_FN(int, pcap_set_timeout, (pcap_t *, int))
WPCAP_FN(int, pcap_set_tstamp_precision, (pcap_t *, int))
WPCAP_FN(int, pcap_setnonblock, (pcap_t *, int, char *))
WPCAP_FN(int, pcap_stats, (pcap_t *, struct pcap_stat *))
WPCAP_FN(pcap_t *, pcap_open_offline, (const char *, char *))
WPCAP_FN(pcap_t *, pcap_open_offline_with_tstamp_precision, (const char *, u_int, char *))
WPCAP_FN(pcap_t *, pcap_hopen_offline_with_tstamp_precision, (intptr_t, u_int, char *))
WPCAP_FN(pcap_t *, pcap_open_dead, (int, int))
WPCAP_FN(pcap_t *, pcap_open_dead_with_tstamp_precision, (int, int, u_int))
WPCAP_FN(pcap_dumper_t *, pcap_dump_open, (pcap_t *, const char *))
WPCAP_FN(pcap_dumper_t *, pcap_dump_hopen, (pcap_t *, intptr_t))
WPCAP_FN(void, pcap_dump, (u_char *, const struct pcap_pkthdr *, const u_char *))
WPCAP_FN(int, pcap_dump_flush, (pcap_dumper_t *))
WPCAP_FN(void, pcap_dump_close, (pcap_dumper_t *))
WPCAP_FN(int, pcap_findalldevs, (pcap_if_t **, char *))
WPCAP_FN(void, pcap_freealldevs, (pcap_if_t *))
WPCAP_FN(const char *, pcap_lib_version, (void))

/*
 * Files handed to a wpcap.dll without handle-based opens (Wine's builtin
 * one): netglobe's FILE, closed with the pcap_t that read it.
 */
struct wpcap_file {
	pcap_t *p;
	FILE *fp;
	struct wpcap_file *next;
};
static struct wpcap_file *wpcap_files;

/* The Unix path of an open file under Wine (its wpcap.dll hands paths to the host's libpcap); NULL elsewhere. */
static char *wine_unix_path(HANDLE h)
{
	typedef char *(CDECL *unix_name_fn)(const WCHAR *);
	unix_name_fn unix_name = (unix_name_fn)(void (*)(void))GetProcAddress(GetModuleHandleA("kernel32.dll"),
									      "wine_get_unix_file_name");
	WCHAR path[MAX_PATH + 8];
	DWORD n;
	char *u, *copy;

	if (unix_name == NULL)
		return NULL;
	n = GetFinalPathNameByHandleW(h, path, MAX_PATH, FILE_NAME_NORMALIZED);
	if (n == 0 || n >= MAX_PATH)
		return NULL;
	if ((u = unix_name(path)) == NULL)
		return NULL;
	copy = xstrdup(u);
	HeapFree(GetProcessHeap(), 0, u);
	return copy;
}

pcap_t *pcap_hopen_offline_with_tstamp_precision(intptr_t h, u_int precision, char *ebuf)
{
	pcap_t *p;
	char *path;

	if (pcap_hopen_offline_with_tstamp_precision_init())
		return pcap_hopen_offline_with_tstamp_precision_fn(h, precision, ebuf);
	/* Wine's wpcap.dll opens host paths only: give it the file's Unix name. */
	if (!pcap_open_offline_init() || (path = wine_unix_path((HANDLE)h)) == NULL) {
		wpcap_missing(ebuf, "pcap_hopen_offline_with_tstamp_precision");
		return NULL;
	}
	p = pcap_open_offline_fn(path, ebuf);
	free(path);
	return p;
}

pcap_t *pcap_open_offline_with_tstamp_precision(const char *path, u_int precision, char *ebuf)
{
	if (pcap_open_offline_with_tstamp_precision_init())
		return pcap_open_offline_with_tstamp_precision_fn(path, precision, ebuf);
	if (pcap_open_offline_init())
		return pcap_open_offline_fn(path, ebuf);
	wpcap_missing(ebuf, "pcap_open_offline");
	return NULL;
}

pcap_t *pcap_create(const char *source, char *ebuf)
{
	if (!pcap_create_init()) {
		wpcap_missing(ebuf, "pcap_create");
		return NULL;
	}
	return pcap_create_fn(source, ebuf);
}

pcap_t *pcap_open_dead_with_tstamp_precision(int linktype, int snaplen, u_int precision)
{
	if (pcap_open_dead_with_tstamp_precision_init())
		return pcap_open_dead_with_tstamp_precision_fn(linktype, snaplen, precision);
	return pcap_open_dead_init() ? pcap_open_dead_fn(linktype, snaplen) : NULL;
}

/* Close p, and the FILE netglobe opened for it when wpcap.dll could not take the handle. */
void pcap_close(pcap_t *p)
{
	struct wpcap_file **w;

	if (pcap_close_init())
		pcap_close_fn(p);
	for (w = &wpcap_files; *w; w = &(*w)->next) {
		if ((*w)->p == p) {
			struct wpcap_file *dead = *w;

			*w = dead->next;
			fclose(dead->fp);
			free(dead);
			break;
		}
	}
}

pcap_dumper_t *pcap_dump_hopen(pcap_t *p, intptr_t h)
{
	pcap_dumper_t *d;
	char *path;

	if (pcap_dump_hopen_init())
		return pcap_dump_hopen_fn(p, h);
	if (!pcap_dump_open_init() || (path = wine_unix_path((HANDLE)h)) == NULL)
		return NULL;
	d = pcap_dump_open_fn(p, path);
	free(path);
	return d;
}

int pcap_activate(pcap_t *p)
{
	return pcap_activate_init() ? pcap_activate_fn(p) : PCAP_ERROR;
}

int pcap_compile(pcap_t *p, struct bpf_program *prog, const char *s, int optimize, bpf_u_int32 mask)
{
	return pcap_compile_init() ? pcap_compile_fn(p, prog, s, optimize, mask) : -1;
}

void pcap_freecode(struct bpf_program *prog)
{
	if (pcap_freecode_init())
		pcap_freecode_fn(prog);
}

int pcap_setfilter(pcap_t *p, struct bpf_program *prog)
{
	return pcap_setfilter_init() ? pcap_setfilter_fn(p, prog) : -1;
}

int pcap_datalink(pcap_t *p)
{
	return pcap_datalink_init() ? pcap_datalink_fn(p) : -1;
}

const char *pcap_datalink_val_to_name(int dlt)
{
	return pcap_datalink_val_to_name_init() ? pcap_datalink_val_to_name_fn(dlt) : NULL;
}

int pcap_dispatch(pcap_t *p, int cnt, pcap_handler cb, u_char *user)
{
	return pcap_dispatch_init() ? pcap_dispatch_fn(p, cnt, cb, user) : -1;
}

int pcap_next_ex(pcap_t *p, struct pcap_pkthdr **h, const u_char **data)
{
	return pcap_next_ex_init() ? pcap_next_ex_fn(p, h, data) : -1;
}

char *pcap_geterr(pcap_t *p)
{
	static char none[] = "wpcap.dll has no pcap_geterr";

	return pcap_geterr_init() ? pcap_geterr_fn(p) : none;
}

int pcap_set_buffer_size(pcap_t *p, int n)
{
	return pcap_set_buffer_size_init() ? pcap_set_buffer_size_fn(p, n) : 0;
}

int pcap_set_immediate_mode(pcap_t *p, int on)
{
	/* Older wpcap.dll builds lack it: a short read timeout gives nearly the same. */
	if (pcap_set_immediate_mode_init())
		return pcap_set_immediate_mode_fn(p, on);
	return pcap_set_timeout_init() ? pcap_set_timeout_fn(p, 10) : 0;
}

int pcap_set_promisc(pcap_t *p, int on)
{
	return pcap_set_promisc_init() ? pcap_set_promisc_fn(p, on) : 0;
}

int pcap_set_snaplen(pcap_t *p, int n)
{
	return pcap_set_snaplen_init() ? pcap_set_snaplen_fn(p, n) : 0;
}

int pcap_set_tstamp_precision(pcap_t *p, int precision)
{
	return pcap_set_tstamp_precision_init() ? pcap_set_tstamp_precision_fn(p, precision) : 0;
}

int pcap_setnonblock(pcap_t *p, int on, char *ebuf)
{
	return pcap_setnonblock_init() ? pcap_setnonblock_fn(p, on, ebuf) : 0;
}

int pcap_stats(pcap_t *p, struct pcap_stat *ps)
{
	return pcap_stats_init() ? pcap_stats_fn(p, ps) : -1;
}

void pcap_dump(u_char *user, const struct pcap_pkthdr *h, const u_char *data)
{
	if (pcap_dump_init())
		pcap_dump_fn(user, h, data);
}

int pcap_dump_flush(pcap_dumper_t *d)
{
	return pcap_dump_flush_init() ? pcap_dump_flush_fn(d) : -1;
}

void pcap_dump_close(pcap_dumper_t *d)
{
	if (pcap_dump_close_init())
		pcap_dump_close_fn(d);
}

int pcap_findalldevs(pcap_if_t **devs, char *ebuf)
{
	if (!pcap_findalldevs_init()) {
		wpcap_missing(ebuf, "pcap_findalldevs");
		return -1;
	}
	return pcap_findalldevs_fn(devs, ebuf);
}

void pcap_freealldevs(pcap_if_t *devs)
{
	if (pcap_freealldevs_init())
		pcap_freealldevs_fn(devs);
}

const char *pcap_lib_version(void)
{
	return pcap_lib_version_init() ? pcap_lib_version_fn() : NPCAP_HINT;
}

/* Npcap gives no descriptor to wait on: the loop polls the capture every PLATFORM_CAPTURE_POLL_MS. */
int pcap_get_selectable_fd(struct pcap *p)
{
	(void)p;
	return -1;
}

/* Winsock, and binary standard streams (binmode.o makes every file netglobe opens binary). */
int platform_init(char *err, size_t errlen)
{
	WSADATA wsa;
	int rc = WSAStartup(MAKEWORD(2, 2), &wsa);

	if (rc != 0) {
		snprintf(err, errlen, "cannot start Windows sockets (WSAStartup error %d)", rc);
		return -1;
	}
	/* JSON lines end in \n as on Linux, also through a pipe or a redirect. */
	_setmode(_fileno(stdin), _O_BINARY);
	_setmode(_fileno(stdout), _O_BINARY);
	_setmode(_fileno(stderr), _O_BINARY);
	return 0;
}

/* BCryptGenRandom with the system's preferred generator. */
int platform_random(void *buf, size_t len)
{
	if (len > ULONG_MAX || BCryptGenRandom(NULL, buf, (ULONG)len, BCRYPT_USE_SYSTEM_PREFERRED_RNG) != 0) {
		errno = EIO;
		return -1;
	}
	return 0;
}

/* WSAPoll over the sockets; entries with a negative descriptor are ignored, as poll(2) does. */
int platform_poll(struct pollfd *fds, nfds_t n, int timeout_ms)
{
	struct pollfd live[64];
	ULONG k = 0;
	int rc;

	for (nfds_t i = 0; i < n; i++) {
		fds[i].revents = 0;
		if ((SOCKET)fds[i].fd != INVALID_SOCKET && k < 64)
			live[k++] = fds[i];
	}
	if (k == 0) {
		Sleep(timeout_ms < 0 ? INFINITE : (DWORD)timeout_ms);
		return 0;
	}
	rc = WSAPoll(live, k, timeout_ms);
	if (rc == SOCKET_ERROR) {
		errno = EIO;
		return -1;
	}
	k = 0;
	for (nfds_t i = 0; i < n; i++)
		if ((SOCKET)fds[i].fd != INVALID_SOCKET && k < 64)
			fds[i].revents = live[k++].revents;
	return rc;
}

/* CreateFileMapping + MapViewOfFile of the whole file. */
const void *platform_map_file(int fd, size_t *lenp)
{
	static const char empty[1];
	HANDLE h = (HANDLE)_get_osfhandle(fd), m;
	LARGE_INTEGER size;
	void *p;

	if (h == INVALID_HANDLE_VALUE || !GetFileSizeEx(h, &size)) {
		errno = EBADF;
		return NULL;
	}
	*lenp = (size_t)size.QuadPart;
	if (size.QuadPart == 0)
		return empty;
	m = CreateFileMappingA(h, NULL, PAGE_READONLY, 0, 0, NULL);
	if (m == NULL) {
		errno = EACCES;
		return NULL;
	}
	p = MapViewOfFile(m, FILE_MAP_READ, 0, 0, 0);
	CloseHandle(m);	/* the view keeps the mapping */
	if (p == NULL)
		errno = ENOMEM;
	return p;
}

/* UnmapViewOfFile; a zero-length file was never mapped. */
void platform_unmap_file(const void *p, size_t len)
{
	if (p != NULL && len > 0)
		UnmapViewOfFile(p);
}

/* The CRT's aligned allocator (VirtualAlloc cannot ask for an alignment above 64 KiB). */
void *platform_alloc_aligned(size_t size)
{
	return _aligned_malloc(size, size);
}

/* _aligned_free. */
void platform_free_aligned(void *p, size_t size)
{
	(void)size;
	_aligned_free(p);
}

/* No huge-page advice on Windows (large pages need a privilege and a special allocation). */
void platform_advise_huge(void *p, size_t len)
{
	(void)p;
	(void)len;
}

/* Windows has no uids: 0 stands for "an administrator", anything else for another account. */
uid_t getuid(void)
{
	return platform_is_admin() ? 0 : 1000;
}

uid_t geteuid(void)
{
	return getuid();
}

/* Unix modes do not apply: the state directory's ACL is checked instead (state_dir_check). */
int fchmod(int fd, unsigned mode)
{
	(void)fd;
	(void)mode;
	return 0;
}

struct tm *gmtime_r(const time_t *t, struct tm *out)
{
	return gmtime_s(out, t) == 0 ? out : NULL;
}

struct tm *localtime_r(const time_t *t, struct tm *out)
{
	return localtime_s(out, t) == 0 ? out : NULL;
}

/* Member of the Administrators group with the token elevated. */
bool platform_is_admin(void)
{
	SID_IDENTIFIER_AUTHORITY nt = SECURITY_NT_AUTHORITY;
	PSID admins = NULL;
	BOOL member = FALSE;

	if (AllocateAndInitializeSid(&nt, 2, SECURITY_BUILTIN_DOMAIN_RID, DOMAIN_ALIAS_RID_ADMINS, 0, 0, 0, 0, 0, 0,
				     &admins)) {
		if (!CheckTokenMembership(NULL, admins, &member))
			member = FALSE;
		FreeSid(admins);
	}
	return member != FALSE;
}

static void (*signal_handler)(int);

/* Console control events: Ctrl-C is SIGINT, a closed console, log-off or shutdown SIGTERM. */
static BOOL WINAPI console_cb(DWORD type)
{
	if (signal_handler == NULL)
		return FALSE;
	signal_handler(type == CTRL_C_EVENT || type == CTRL_BREAK_EVENT ? SIGINT : SIGTERM);
	return TRUE;
}

/* A service stop request that came before the daemon installed its handler. */
static volatile LONG svc_stop_early;

/* SetConsoleCtrlHandler; a service's stop request reaches the same handler (svc_control). */
void platform_signals(void (*handler)(int))
{
	signal_handler = handler;
	SetConsoleCtrlHandler(console_cb, TRUE);
	if (handler != NULL && InterlockedExchange(&svc_stop_early, 0))
		handler(SIGTERM);
}

/*
 * DESIGN. The service. `netglobe service install OPTIONS` registers
 * "netglobe.exe service run OPTIONS" with the service control manager
 * (automatic start, LocalSystem). The manager starts that command line;
 * platform_service_run hands the main thread to StartServiceCtrlDispatcherW,
 * whose ServiceMain runs the daemon on its own thread. The manager's stop and
 * shutdown requests arrive on the main thread and go to the platform_signals
 * handler as SIGTERM: the stop path of Ctrl-C. The daemon's exit status
 * becomes the service's exit code.
 */
static void cmdline_put(char *buf, size_t len, size_t *off, const char *s);
static SERVICE_STATUS_HANDLE svc_handle;
static SERVICE_STATUS svc_status;
static int (*svc_run)(void *);
static void *svc_arg;
static int svc_rc;

/* Tell the manager the service's state (and, once stopped, its exit code). */
static void svc_report(DWORD state, DWORD exit_code)
{
	svc_status.dwServiceType = SERVICE_WIN32_OWN_PROCESS;
	svc_status.dwCurrentState = state;
	svc_status.dwControlsAccepted = state == SERVICE_RUNNING ? SERVICE_ACCEPT_STOP | SERVICE_ACCEPT_SHUTDOWN : 0;
	svc_status.dwWin32ExitCode = exit_code ? ERROR_SERVICE_SPECIFIC_ERROR : NO_ERROR;
	svc_status.dwServiceSpecificExitCode = exit_code;
	svc_status.dwWaitHint = state == SERVICE_RUNNING || state == SERVICE_STOPPED ? 0 : 10000;
	svc_status.dwCheckPoint = state == SERVICE_RUNNING || state == SERVICE_STOPPED ? 0 : svc_status.dwCheckPoint + 1;
	SetServiceStatus(svc_handle, &svc_status);
}

/* The manager's requests: stop and shutdown are SIGTERM for the daemon. */
static DWORD WINAPI svc_control(DWORD ctl, DWORD type, void *data, void *ctx)
{
	(void)type;
	(void)data;
	(void)ctx;
	switch (ctl) {
	case SERVICE_CONTROL_STOP:
	case SERVICE_CONTROL_SHUTDOWN:
		svc_report(SERVICE_STOP_PENDING, 0);
		if (signal_handler != NULL)
			signal_handler(SIGTERM);
		else
			InterlockedExchange(&svc_stop_early, 1);	/* still starting: platform_signals passes it on */
		return NO_ERROR;
	case SERVICE_CONTROL_INTERROGATE:
		return NO_ERROR;
	default:
		return ERROR_CALL_NOT_IMPLEMENTED;
	}
}

/* ServiceMain: register the handler, report running, run the daemon, report stopped with its status. */
static void WINAPI svc_main(DWORD argc, LPWSTR *argv)
{
	(void)argc;
	(void)argv;
	svc_handle = RegisterServiceCtrlHandlerExW(L"" PLATFORM_SERVICE_NAME, svc_control, NULL);
	if (svc_handle == NULL) {
		svc_rc = 1;
		return;
	}
	svc_report(SERVICE_RUNNING, 0);
	svc_rc = svc_run(svc_arg);
	svc_report(SERVICE_STOPPED, (DWORD)svc_rc);
}

/* Hand the main thread to the service dispatcher; the daemon runs in svc_main. */
int platform_service_run(int (*run)(void *), void *arg, char *err, size_t errlen)
{
	SERVICE_TABLE_ENTRYW table[] = {{(LPWSTR)L"" PLATFORM_SERVICE_NAME, svc_main}, {NULL, NULL}};

	svc_run = run;
	svc_arg = arg;
	if (!StartServiceCtrlDispatcherW(table)) {
		DWORD e = GetLastError();

		if (e == ERROR_FAILED_SERVICE_CONTROLLER_CONNECT)
			snprintf(err, errlen, "service run: only the service manager starts this (netglobe service install, "
					      "then: sc start %s)", PLATFORM_SERVICE_NAME);
		else
			snprintf(err, errlen, "service run: cannot reach the service manager (error %lu)", (unsigned long)e);
		return -1;
	}
	return svc_rc;
}

/* The service manager, or NULL with one line in err (most often: not an administrator). */
static SC_HANDLE svc_manager(const char *what, char *err, size_t errlen)
{
	SC_HANDLE m = OpenSCManagerW(NULL, NULL, SC_MANAGER_CONNECT | SC_MANAGER_CREATE_SERVICE);

	if (m == NULL)
		snprintf(err, errlen, "service %s: cannot open the service manager (%s): run it from an administrator "
			 "console", what, GetLastError() == ERROR_ACCESS_DENIED ? "access denied" : "error");
	return m;
}

/* The command line the manager starts: this program, "service run", then the daemon's options, quoted. */
static wchar_t *svc_command_line(int argc, char *const argv[], char *err, size_t errlen)
{
	wchar_t exe[MAX_PATH];
	char *line, *exea;
	size_t cap = 2 * MAX_PATH + 32, off = 0;
	wchar_t *w;
	int n;

	if (GetModuleFileNameW(NULL, exe, MAX_PATH) == 0 || GetLastError() == ERROR_INSUFFICIENT_BUFFER) {
		snprintf(err, errlen, "service install: cannot tell where netglobe.exe is");
		return NULL;
	}
	for (int i = 0; i < argc; i++)
		cap += 2 * strlen(argv[i]) + 3;
	n = WideCharToMultiByte(CP_ACP, 0, exe, -1, NULL, 0, NULL, NULL);
	exea = xmalloc((size_t)n);
	WideCharToMultiByte(CP_ACP, 0, exe, -1, exea, n, NULL, NULL);
	line = xmalloc(cap + (size_t)n * 2);
	line[0] = '\0';
	/* The program is always quoted: an unquoted path with spaces would let C:\Program.exe run instead. */
	off = (size_t)snprintf(line, cap + (size_t)n * 2, "\"%s\"", exea);
	cmdline_put(line, cap + (size_t)n * 2, &off, "service");
	cmdline_put(line, cap + (size_t)n * 2, &off, "run");
	for (int i = 0; i < argc; i++)
		cmdline_put(line, cap + (size_t)n * 2, &off, argv[i]);
	free(exea);
	n = MultiByteToWideChar(CP_ACP, 0, line, -1, NULL, 0);
	w = xmalloc((size_t)n * sizeof *w);
	MultiByteToWideChar(CP_ACP, 0, line, -1, w, n);
	free(line);
	return w;
}

/* CreateServiceW with this program's path and the options; then its description. */
int platform_service_install(int argc, char *const argv[], char *err, size_t errlen)
{
	SERVICE_DESCRIPTIONW desc = {(LPWSTR)L"Watches which hosts this machine talks to, on a globe, and flags what "
					     L"is new (http://localhost:8080)"};
	SC_HANDLE m, s;
	wchar_t *cmd;

	cmd = svc_command_line(argc, argv, err, errlen);
	if (cmd == NULL)
		return -1;
	m = svc_manager("install", err, errlen);
	if (m == NULL) {
		free(cmd);
		return -1;
	}
	/* Asked first, not left to CreateServiceW alone: Wine's service manager once created it a second time. */
	s = OpenServiceW(m, L"" PLATFORM_SERVICE_NAME, SERVICE_QUERY_STATUS);
	if (s != NULL) {
		CloseServiceHandle(s);
		s = NULL;
		SetLastError(ERROR_SERVICE_EXISTS);
	} else {
		s = CreateServiceW(m, L"" PLATFORM_SERVICE_NAME, L"netglobe", SERVICE_ALL_ACCESS,
				   SERVICE_WIN32_OWN_PROCESS, SERVICE_AUTO_START, SERVICE_ERROR_NORMAL, cmd, NULL, NULL,
				   NULL, NULL, NULL);
	}
	if (s == NULL) {
		DWORD e = GetLastError();

		if (e == ERROR_SERVICE_EXISTS)
			snprintf(err, errlen, "service install: a service named %s exists already (netglobe service "
				 "uninstall first, to change its options)", PLATFORM_SERVICE_NAME);
		else
			snprintf(err, errlen, "service install: cannot create the service (error %lu)", (unsigned long)e);
		CloseServiceHandle(m);
		free(cmd);
		return -1;
	}
	ChangeServiceConfig2W(s, SERVICE_CONFIG_DESCRIPTION, &desc);
	CloseServiceHandle(s);
	CloseServiceHandle(m);
	free(cmd);
	return 0;
}

/* Ask a running service to stop and wait up to 30 s for it; then DeleteService. */
int platform_service_uninstall(char *err, size_t errlen)
{
	SERVICE_STATUS st;
	SC_HANDLE m, s;
	int rc = 0;

	m = svc_manager("uninstall", err, errlen);
	if (m == NULL)
		return -1;
	s = OpenServiceW(m, L"" PLATFORM_SERVICE_NAME, SERVICE_ALL_ACCESS);	/* stop, query and delete */
	if (s == NULL) {
		DWORD e = GetLastError();

		snprintf(err, errlen, e == ERROR_SERVICE_DOES_NOT_EXIST ? "service uninstall: no service named %s is installed"
									 : "service uninstall: cannot open the service %s",
			 PLATFORM_SERVICE_NAME);
		CloseServiceHandle(m);
		return -1;
	}
	if (ControlService(s, SERVICE_CONTROL_STOP, &st)) {
		for (int i = 0; i < 300 && QueryServiceStatus(s, &st) && st.dwCurrentState != SERVICE_STOPPED; i++)
			Sleep(100);
	}
	if (!DeleteService(s)) {
		snprintf(err, errlen, "service uninstall: cannot remove the service %s (error %lu)", PLATFORM_SERVICE_NAME,
			 (unsigned long)GetLastError());
		rc = -1;
	}
	CloseServiceHandle(s);
	CloseServiceHandle(m);
	return rc;
}

/* Join the buffers and write them at once, so an appended line is never split by another writer. */
ssize_t writev(int fd, const struct iovec *iov, int n)
{
	size_t len = 0, off = 0;
	char *buf;
	int w;

	for (int i = 0; i < n; i++)
		len += iov[i].iov_len;
	if (len > INT_MAX) {
		errno = EINVAL;
		return -1;
	}
	buf = xmalloc(len ? len : 1);
	for (int i = 0; i < n; i++) {
		memcpy(buf + off, iov[i].iov_base, iov[i].iov_len);
		off += iov[i].iov_len;
	}
	w = _write(fd, buf, (unsigned)len);
	free(buf);
	return w;
}

/* One adapter address (or the adapter alone) as a getifaddrs entry. */
static struct ifaddrs *ifaddr_new(const IP_ADAPTER_ADDRESSES *ad, const SOCKADDR *sa, int salen)
{
	struct ifaddrs *ifa = xcalloc(1, sizeof *ifa);
	size_t n = strlen("\\Device\\NPF_") + strlen(ad->AdapterName) + 1;

	ifa->ifa_name = xmalloc(n);
	snprintf(ifa->ifa_name, n, "\\Device\\NPF_%s", ad->AdapterName);
	ifa->ifa_flags = (ad->OperStatus == IfOperStatusUp ? IFF_UP : 0) |
			 (ad->IfType == IF_TYPE_SOFTWARE_LOOPBACK ? IFF_LOOPBACK : 0);
	if (sa != NULL) {
		ifa->ifa_addr = xcalloc(1, sizeof(struct sockaddr_storage));
		memcpy(ifa->ifa_addr, sa, (size_t)salen);
	}
	return ifa;
}

/* The adapters of GetAdaptersAddresses (NULL and errno on failure); caller frees. */
static IP_ADAPTER_ADDRESSES *adapters_get(void)
{
	ULONG len = 16384;
	IP_ADAPTER_ADDRESSES *list = NULL;
	ULONG rc = ERROR_BUFFER_OVERFLOW;

	for (int tries = 0; tries < 4 && rc == ERROR_BUFFER_OVERFLOW; tries++) {
		free(list);
		list = xmalloc(len);
		rc = GetAdaptersAddresses(AF_UNSPEC, GAA_FLAG_SKIP_ANYCAST | GAA_FLAG_SKIP_MULTICAST | GAA_FLAG_SKIP_DNS_SERVER,
					  NULL, list, &len);
	}
	if (rc != NO_ERROR) {
		free(list);
		errno = rc == ERROR_NO_DATA ? ENODEV : EIO;
		return NULL;
	}
	return list;
}

int getifaddrs(struct ifaddrs **out)
{
	IP_ADAPTER_ADDRESSES *list = adapters_get();
	struct ifaddrs *head = NULL, **tail = &head;

	if (list == NULL)
		return -1;
	for (IP_ADAPTER_ADDRESSES *ad = list; ad; ad = ad->Next) {
		if (ad->FirstUnicastAddress == NULL) {
			*tail = ifaddr_new(ad, NULL, 0);
			tail = &(*tail)->ifa_next;
		}
		for (IP_ADAPTER_UNICAST_ADDRESS *u = ad->FirstUnicastAddress; u; u = u->Next) {
			*tail = ifaddr_new(ad, u->Address.lpSockaddr, u->Address.iSockaddrLength);
			tail = &(*tail)->ifa_next;
		}
	}
	free(list);
	*out = head;
	return 0;
}

void freeifaddrs(struct ifaddrs *list)
{
	while (list) {
		struct ifaddrs *next = list->ifa_next;

		free(list->ifa_name);
		free(list->ifa_addr);
		free(list);
		list = next;
	}
}

/* arg as UTF-16 (netglobe's arguments come in the ANSI code page), into w; false when it does not convert. */
static bool arg_wide(const char *arg, wchar_t *w, int wlen)
{
	return MultiByteToWideChar(CP_ACP, 0, arg, -1, w, wlen) > 0;
}

/* True when arg is the adapter's GUID: "{...}" as GetAdaptersAddresses spells it, without braces, or
 * Npcap's whole \Device\NPF_{...}; any case. */
static bool guid_matches(const char *arg, const char *guid)
{
	static const char prefix[] = "\\Device\\NPF_";
	size_t n = strlen(guid);

	if (strncasecmp(arg, prefix, sizeof prefix - 1) == 0)
		return strcasecmp(arg + sizeof prefix - 1, guid) == 0;
	if (strcasecmp(arg, guid) == 0)
		return true;
	return n > 2 && guid[0] == '{' && strlen(arg) == n - 2 && strncasecmp(arg, guid + 1, n - 2) == 0;
}

/* The adapter whose friendly name or GUID is arg, as Npcap names it (when Npcap is missing, pcap_create says so). */
int platform_iface_lookup(const char *arg, char *buf, size_t len)
{
	IP_ADAPTER_ADDRESSES *list = adapters_get();
	wchar_t warg[256];
	bool wide;
	int rc = -1;

	if (list == NULL)
		return -1;
	wide = arg_wide(arg, warg, (int)NG_ARRAY_LEN(warg));
	for (IP_ADAPTER_ADDRESSES *ad = list; ad && rc < 0; ad = ad->Next) {
		if ((wide && ad->FriendlyName && _wcsicmp(warg, ad->FriendlyName) == 0) ||
		    guid_matches(arg, ad->AdapterName)) {
			snprintf(buf, len, "\\Device\\NPF_%s", ad->AdapterName);
			rc = 1;
		}
	}
	free(list);
	return rc;
}

/* GetAdaptersAddresses' FriendlyName (UTF-8) of the adapter whose GUID ends capname. */
bool platform_iface_friendly(const char *capname, char *buf, size_t len)
{
	static const char prefix[] = "\\Device\\NPF_";
	IP_ADAPTER_ADDRESSES *list;
	bool found = false;

	if (strncmp(capname, prefix, sizeof prefix - 1) != 0 || len == 0)
		return false;
	list = adapters_get();
	if (list == NULL)
		return false;
	for (IP_ADAPTER_ADDRESSES *ad = list; ad && !found; ad = ad->Next) {
		if (strcasecmp(capname + sizeof prefix - 1, ad->AdapterName) != 0 || !ad->FriendlyName)
			continue;
		found = WideCharToMultiByte(CP_UTF8, 0, ad->FriendlyName, -1, buf, (int)len, NULL, NULL) > 0;
	}
	free(list);
	return found;
}

/* Npcap lists nothing when its driver is not running or it was installed for administrators only. */
const char *platform_no_iface_hint(void)
{
	return "is Npcap installed (https://npcap.com/#download) and its driver running? With \"Restrict Npcap driver's "
	       "access to Administrators only\", run netglobe as administrator";
}

/* errno for a Winsock error, for the messages the callers already word. */
static int wsa_errno(int e)
{
	switch (e) {
	case WSAEADDRINUSE:
		return EADDRINUSE;
	case WSAEADDRNOTAVAIL:
		return EADDRNOTAVAIL;
	case WSAEACCES:
		return EACCES;
	case WSAEAFNOSUPPORT:
		return EAFNOSUPPORT;
	case WSAEWOULDBLOCK:
		return EAGAIN;
	case WSAECONNREFUSED:
		return ECONNREFUSED;
	case WSAECONNRESET:
		return ECONNRESET;
	case WSAENOBUFS:
		return ENOBUFS;
	case WSAEMSGSIZE:
		return EMSGSIZE;
	case WSAENETUNREACH:
	case WSAEHOSTUNREACH:
		return ENETUNREACH;
	default:
		return EIO;
	}
}

/* WSASocket without inheritance, non-blocking, exclusive address use (Windows' SO_REUSEADDR would share the port). */
int platform_tcp_listen(const struct sockaddr *sa, socklen_t len)
{
	SOCKET s = WSASocketW(sa->sa_family, SOCK_STREAM, IPPROTO_TCP, NULL, 0, WSA_FLAG_NO_HANDLE_INHERIT | WSA_FLAG_OVERLAPPED);
	u_long nb = 1;
	int one = 1;

	if (s == INVALID_SOCKET) {
		errno = wsa_errno(WSAGetLastError());
		return -1;
	}
	setsockopt(s, SOL_SOCKET, SO_EXCLUSIVEADDRUSE, (const char *)&one, sizeof one);
	if (sa->sa_family == AF_INET6)
		setsockopt(s, IPPROTO_IPV6, IPV6_V6ONLY, (const char *)&one, sizeof one);
	if (bind(s, sa, len) != 0 || listen(s, 128) != 0 || ioctlsocket(s, FIONBIO, &nb) != 0) {
		errno = wsa_errno(WSAGetLastError());
		closesocket(s);
		return -1;
	}
	return (int)s;
}

#undef send
#undef connect
/* send(2) on a Winsock socket, errno set from WSAGetLastError. */
ssize_t platform_send(int fd, const void *buf, size_t len, int flags)
{
	int n = send((SOCKET)fd, (const char *)buf, (int)len, flags);

	if (n == SOCKET_ERROR) {
		errno = wsa_errno(WSAGetLastError());
		return -1;
	}
	return n;
}

/* connect(2) on a Winsock socket; a non-blocking connect under way is EINPROGRESS, as on POSIX. */
int platform_connect(int fd, const struct sockaddr *sa, socklen_t len)
{
	if (connect((SOCKET)fd, sa, len) == SOCKET_ERROR) {
		int e = WSAGetLastError();

		errno = e == WSAEWOULDBLOCK ? EINPROGRESS : wsa_errno(e);
		return -1;
	}
	return 0;
}

void platform_socket_close(int fd)
{
	closesocket((SOCKET)fd);
}

/* Windows' fd_set is a list of sockets, not a bitmap. */
int platform_fdset_pollfds(const fd_set *rs, const fd_set *ws, int maxfd, struct pollfd *fds, int max)
{
	int n = 0;

	(void)maxfd;
	for (u_int i = 0; i < rs->fd_count && n < max; i++) {
		fds[n].fd = rs->fd_array[i];
		fds[n].events = POLLIN;
		fds[n].revents = 0;
		n++;
	}
	for (u_int i = 0; i < ws->fd_count && n < max; i++) {
		int k;

		for (k = 0; k < n && fds[k].fd != ws->fd_array[i]; k++)
			;
		if (k == n) {
			fds[n].fd = ws->fd_array[i];
			fds[n].events = 0;
			fds[n].revents = 0;
			n++;
		}
		fds[k].events |= POLLOUT;
	}
	return n;
}

/* Append s to a command line, quoted the way CommandLineToArgvW reads it back. */
static void cmdline_put(char *buf, size_t len, size_t *off, const char *s)
{
	size_t o = *off;
	bool quote = s[0] == '\0' || strpbrk(s, " \t\"") != NULL;

	if (o > 0 && o + 1 < len)
		buf[o++] = ' ';
	if (quote && o + 1 < len)
		buf[o++] = '"';
	for (const char *p = s; *p && o + 3 < len; p++) {
		size_t bs = 0;

		while (*p == '\\') {
			bs++;
			p++;
		}
		/* Backslashes are literal unless they precede a quote (or the closing quote). */
		if (*p == '"' || (*p == '\0' && quote))
			bs *= 2;
		while (bs-- > 0 && o + 3 < len)
			buf[o++] = '\\';
		if (*p == '\0')
			break;
		if (*p == '"')
			buf[o++] = '\\';
		buf[o++] = *p;
	}
	if (quote && o + 1 < len)
		buf[o++] = '"';
	buf[o] = '\0';
	*off = o;
}

/* CreateProcess with a pipe on standard input, NUL for output, a new process group, the given environment. */
int platform_spawn(char *const argv[], const char *const add[], const char *drop_prefix, intptr_t *child,
		   int *stdin_fd, char *err, size_t errlen)
{
	SECURITY_ATTRIBUTES sa = {sizeof sa, NULL, TRUE};
	STARTUPINFOA si;
	PROCESS_INFORMATION pi;
	HANDLE rd, wr, nul;
	char *cmd, *env, *src;
	size_t cmdlen = 32768, envlen = 0, off = 0, plen = strlen(drop_prefix);
	BOOL ok;

	if (!CreatePipe(&rd, &wr, &sa, 65536)) {
		snprintf(err, errlen, "could not start: CreatePipe error %lu", GetLastError());
		return -1;
	}
	SetHandleInformation(wr, HANDLE_FLAG_INHERIT, 0);
	nul = CreateFileA("NUL", GENERIC_WRITE, FILE_SHARE_READ | FILE_SHARE_WRITE, &sa, OPEN_EXISTING, 0, NULL);
	cmd = xmalloc(cmdlen);
	cmd[0] = '\0';
	for (size_t i = 0; argv[i]; i++)
		cmdline_put(cmd, cmdlen, &off, argv[i]);
	/* The environment block: this process's, minus drop_prefix*, plus add. */
	src = GetEnvironmentStringsA();
	for (const char *e = src; e && *e; e += strlen(e) + 1)
		envlen += strlen(e) + 1;
	for (size_t i = 0; add[i]; i++)
		envlen += strlen(add[i]) + 1;
	env = xmalloc(envlen + 2);
	off = 0;
	for (const char *e = src; e && *e; e += strlen(e) + 1) {
		if (strncmp(e, drop_prefix, plen) != 0) {
			memcpy(env + off, e, strlen(e) + 1);
			off += strlen(e) + 1;
		}
	}
	for (size_t i = 0; add[i]; i++) {
		memcpy(env + off, add[i], strlen(add[i]) + 1);
		off += strlen(add[i]) + 1;
	}
	env[off++] = '\0';
	env[off] = '\0';
	if (src)
		FreeEnvironmentStringsA(src);
	memset(&si, 0, sizeof si);
	si.cb = sizeof si;
	si.dwFlags = STARTF_USESTDHANDLES;
	si.hStdInput = rd;
	si.hStdOutput = nul;
	si.hStdError = GetStdHandle(STD_ERROR_HANDLE);
	ok = CreateProcessA(NULL, cmd, NULL, NULL, TRUE, CREATE_NEW_PROCESS_GROUP | CREATE_NO_WINDOW, env, NULL, &si, &pi);
	free(cmd);
	free(env);
	CloseHandle(rd);
	if (nul != INVALID_HANDLE_VALUE)
		CloseHandle(nul);
	if (!ok) {
		snprintf(err, errlen, "could not start %s: CreateProcess error %lu", argv[0], GetLastError());
		CloseHandle(wr);
		return -1;
	}
	CloseHandle(pi.hThread);
	*child = (intptr_t)pi.hProcess;
	*stdin_fd = _open_osfhandle((intptr_t)wr, _O_WRONLY | _O_BINARY);
	return 0;
}

/* WaitForSingleObject on the process handle; the exit code is the status. */
int platform_child_wait(intptr_t child, bool block, char *how, size_t howlen)
{
	HANDLE h = (HANDLE)child;
	DWORD code = 0;

	how[0] = '\0';
	if (WaitForSingleObject(h, block ? INFINITE : 0) == WAIT_TIMEOUT)
		return 0;
	if (GetExitCodeProcess(h, &code) && code != 0)
		snprintf(how, howlen, "exited with status %lu", (unsigned long)code);
	CloseHandle(h);
	return 1;
}

/* TerminateProcess: Windows has no polite signal for a console-less child. */
void platform_child_kill(intptr_t child, bool hard)
{
	(void)hard;
	TerminateProcess((HANDLE)child, 1);
}

/* Windows has no users to switch to here: run the service under a low-rights account instead. */
int privs_drop(const struct privs_options *opts, char *err, size_t errlen)
{
	(void)opts;
	(void)err;
	(void)errlen;
	log_info("privileges: Windows keeps the account's rights (run the service as a low-rights account)");
	return 0;
}

/* --user has no meaning on Windows. */
int privs_check_user(const char *user, char *err, size_t errlen)
{
	if (user == NULL)
		return 0;
	snprintf(err, errlen, "--user %s: not available on Windows (run the service under that account instead)", user);
	return -1;
}

/* A memory stream: a temporary file, read back into the caller's buffer when closed. */
struct memstream {
	FILE *f;
	char **buf;
	size_t *len;
	struct memstream *next;
};
static struct memstream *memstreams;

FILE *platform_memstream(char **buf, size_t *len)
{
	struct memstream *m;
	FILE *f = tmpfile();

	if (f == NULL)
		return NULL;
	m = xcalloc(1, sizeof *m);
	m->f = f;
	m->buf = buf;
	m->len = len;
	m->next = memstreams;
	memstreams = m;
	return f;
}

int platform_memstream_close(FILE *f)
{
	struct memstream **pm, *m = NULL;
	long n;

	for (pm = &memstreams; *pm; pm = &(*pm)->next) {
		if ((*pm)->f == f) {
			m = *pm;
			*pm = m->next;
			break;
		}
	}
	if (m == NULL)
		return fclose(f);
	fflush(f);
	n = ftell(f);
	if (n < 0)
		n = 0;
	*m->buf = xmalloc((size_t)n + 1);
	rewind(f);
	*m->len = fread(*m->buf, 1, (size_t)n, f);
	(*m->buf)[*m->len] = '\0';
	free(m);
	return fclose(f);
}

/* Seconds only: the C runtime's stat keeps no finer time. */
struct timespec platform_mtime(const struct stat *st)
{
	struct timespec t = {st->st_mtime, 0};

	return t;
}

/* The folder of netglobe.exe with forward slashes (Windows takes both), or "." . */
static const char *exe_dir(void)
{
	static char dir[MAX_PATH];

	if (dir[0] == '\0') {
		DWORD n = GetModuleFileNameA(NULL, dir, sizeof dir);
		char *slash;

		if (n == 0 || n >= sizeof dir)
			strcpy(dir, ".");
		for (char *p = dir; *p; p++)
			if (*p == '\\')
				*p = '/';
		if ((slash = strrchr(dir, '/')) != NULL)
			*slash = '\0';
	}
	return dir;
}

/* Beside netglobe.exe (make windows copies Debian's file there). */
const char *platform_psl_file(void)
{
	static char path[MAX_PATH + 32];

	snprintf(path, sizeof path, "%s/public_suffix_list.dafsa", exe_dir());
	return path;
}

/*
 * Only "/proc/self/exe" resolves (to netglobe.exe, as on Linux, so the data
 * search beside the program works unchanged); Windows has no other symbolic
 * links that netglobe reads (the time-zone paths are Unix ones).
 */
ssize_t readlink(const char *path, char *buf, size_t len)
{
	char exe[MAX_PATH];
	DWORD n;

	if (strcmp(path, "/proc/self/exe") != 0) {
		errno = EINVAL;
		return -1;
	}
	n = GetModuleFileNameA(NULL, exe, sizeof exe);
	if (n == 0 || n >= sizeof exe || n > len) {
		errno = ENAMETOOLONG;
		return -1;
	}
	for (DWORD i = 0; i < n; i++)
		buf[i] = exe[i] == '\\' ? '/' : exe[i];
	return (ssize_t)n;
}

char *realpath(const char *path, char *resolved)
{
	return _fullpath(resolved, path, PATH_MAX);
}

/* mkstemp with the flags ignored (handles are not inherited unless asked for). */
int mkostemp(char *tmpl, int flags)
{
	(void)flags;
	if (_mktemp_s(tmpl, strlen(tmpl) + 1) != 0)
		return -1;
	return _open(tmpl, _O_RDWR | _O_CREAT | _O_EXCL | _O_BINARY, _S_IREAD | _S_IWRITE);
}

#undef socket
/* getline(3) on the CRT, byte by byte (config files are small). */
ssize_t getline(char **line, size_t *cap, FILE *f)
{
	size_t n = 0;
	int c;

	if (*line == NULL || *cap == 0) {
		*cap = 128;
		*line = xrealloc(*line, *cap);
	}
	while ((c = getc(f)) != EOF) {
		if (n + 2 > *cap) {
			*cap *= 2;
			*line = xrealloc(*line, *cap);
		}
		(*line)[n++] = (char)c;
		if (c == '\n')
			break;
	}
	if (n == 0)
		return -1;
	(*line)[n] = '\0';
	return (ssize_t)n;
}

/* A Winsock socket with SOCK_NONBLOCK honoured; never inherited by children. */
int platform_socket(int domain, int type, int proto)
{
	SOCKET s = WSASocketW(domain, type & ~(SOCK_NONBLOCK | SOCK_CLOEXEC), proto, NULL, 0,
			      WSA_FLAG_NO_HANDLE_INHERIT | WSA_FLAG_OVERLAPPED);
	u_long nb = 1;

	if (s == INVALID_SOCKET) {
		errno = wsa_errno(WSAGetLastError());
		return -1;
	}
	if (type & SOCK_NONBLOCK)
		ioctlsocket(s, FIONBIO, &nb);
	return (int)s;
}

ssize_t pread(int fd, void *buf, size_t len, off_t off)
{
	__int64 was = _lseeki64(fd, 0, SEEK_CUR);
	int n;

	if (was < 0 || _lseeki64(fd, off, SEEK_SET) < 0)
		return -1;
	n = _read(fd, buf, len > INT_MAX ? INT_MAX : (unsigned)len);
	_lseeki64(fd, was, SEEK_SET);
	return n;
}

void *memrchr(const void *s, int c, size_t n)
{
	const unsigned char *p = (const unsigned char *)s + n;

	while (n-- > 0)
		if (*--p == (unsigned char)c)
			return (void *)p;
	return NULL;
}

char *strcasestr(const char *hay, const char *needle)
{
	size_t n = strlen(needle);

	for (; *hay; hay++)
		if (strncasecmp(hay, needle, n) == 0)
			return (char *)hay;
	return n == 0 ? (char *)hay : NULL;
}

/* glibc's qsort_r argument order on top of the CRT's qsort_s. */
struct qsort_ctx {
	int (*cmp)(const void *, const void *, void *);
	void *arg;
};

static int qsort_tramp(void *ctx, const void *a, const void *b)
{
	struct qsort_ctx *q = ctx;

	return q->cmp(a, b, q->arg);
}

void qsort_r(void *base, size_t n, size_t size, int (*cmp)(const void *, const void *, void *), void *arg)
{
	struct qsort_ctx q = {cmp, arg};

	qsort_s(base, n, size, qsort_tramp, &q);
}

int openat(int dirfd, const char *path, int flags, ...)
{
	(void)dirfd;
	(void)path;
	(void)flags;
	errno = ENOSYS;
	return -1;
}

int fstatat(int dirfd, const char *path, struct stat *st, int flags)
{
	(void)dirfd;
	(void)path;
	(void)st;
	(void)flags;
	errno = ENOSYS;
	return -1;
}

int unlinkat(int dirfd, const char *path, int flags)
{
	(void)dirfd;
	(void)path;
	(void)flags;
	errno = ENOSYS;
	return -1;
}

DIR *fdopendir(int fd)
{
	(void)fd;
	errno = ENOSYS;
	return NULL;
}

/* True for the accounts that may write anywhere anyway: SYSTEM, Administrators, the owner, CREATOR OWNER. */
static bool sid_trusted(PSID sid, PSID owner)
{
	static const WELL_KNOWN_SID_TYPE ok[] = {WinLocalSystemSid, WinBuiltinAdministratorsSid, WinCreatorOwnerSid};

	if (owner != NULL && EqualSid(sid, owner))
		return true;
	for (size_t i = 0; i < NG_ARRAY_LEN(ok); i++)
		if (IsWellKnownSid(sid, ok[i]))
			return true;
	return false;
}

/* Create dir (and parents) with an ACL that gives access to SYSTEM, Administrators and this account only. */
static int private_mkdir(const char *dir)
{
	SECURITY_ATTRIBUTES sa = {sizeof sa, NULL, FALSE};
	PSECURITY_DESCRIPTOR sd = NULL;
	char parent[MAX_PATH];
	const char *sddl = "D:P(A;OICI;FA;;;SY)(A;OICI;FA;;;BA)(A;OICI;FA;;;OW)";
	char *slash;
	int rc;

	if (GetFileAttributesA(dir) != INVALID_FILE_ATTRIBUTES)
		return 0;
	snprintf(parent, sizeof parent, "%s", dir);
	slash = strrchr(parent, '\\');
	if (strrchr(parent, '/') > slash)
		slash = strrchr(parent, '/');
	if (slash != NULL && slash > parent && slash[-1] != ':') {
		*slash = '\0';
		if (GetFileAttributesA(parent) == INVALID_FILE_ATTRIBUTES && mkdir_p(parent) != 0)
			return -1;
	}
	typedef BOOL(WINAPI * sddl_fn)(LPCSTR, DWORD, PSECURITY_DESCRIPTOR *, PULONG);
	sddl_fn conv = (sddl_fn)(void (*)(void))GetProcAddress(GetModuleHandleA("advapi32.dll"),
							      "ConvertStringSecurityDescriptorToSecurityDescriptorA");
	if (conv != NULL && conv(sddl, 1, &sd, NULL))
		sa.lpSecurityDescriptor = sd;
	rc = CreateDirectoryA(dir, &sa) ? 0 : -1;
	if (rc != 0)
		errno = GetLastError() == ERROR_ACCESS_DENIED ? EACCES : ENOENT;
	if (sd != NULL)
		LocalFree(sd);
	return rc;
}

/* True when sid is this process's account, SYSTEM or Administrators: the owners a state directory may have. */
static bool owner_trusted(PSID sid)
{
	HANDLE tok;
	union {
		TOKEN_USER user;
		char buf[256];
	} u;
	DWORD n = 0;
	bool ok = false;

	if (sid == NULL)
		return false;
	if (IsWellKnownSid(sid, WinLocalSystemSid) || IsWellKnownSid(sid, WinBuiltinAdministratorsSid))
		return true;
	if (OpenProcessToken(GetCurrentProcess(), TOKEN_QUERY, &tok)) {
		ok = GetTokenInformation(tok, TokenUser, &u, sizeof u, &n) && EqualSid(sid, u.user.User.Sid);
		CloseHandle(tok);
	}
	return ok;
}

/*
 * The Windows equivalent of the Unix check on an existing directory: it
 * belongs to this account, SYSTEM or Administrators (any user may create a
 * folder in ProgramData before netglobe does), and its DACL may grant write
 * access (add files, write data, change the ACL or owner) only to SYSTEM,
 * Administrators and its owner.
 */
static int state_dir_judge(const char *dir, char *err, size_t errlen)
{
	PSECURITY_DESCRIPTOR sd = NULL;
	PACL dacl = NULL;
	PSID owner = NULL;
	DWORD rc;
	const DWORD writes = FILE_ADD_FILE | FILE_WRITE_DATA | FILE_ADD_SUBDIRECTORY | FILE_DELETE_CHILD | WRITE_DAC |
			     WRITE_OWNER | GENERIC_WRITE | GENERIC_ALL;

	DWORD attr = GetFileAttributesA(dir);

	if (attr == INVALID_FILE_ATTRIBUTES) {
		errno = ENOENT;
		snprintf(err, errlen, "cannot use state directory %s: %s (fix it or choose --state-dir DIR)", dir,
			 strerror(ENOENT));
		return -1;
	}
	if (!(attr & FILE_ATTRIBUTE_DIRECTORY)) {
		snprintf(err, errlen, "state directory %s is not a directory (choose --state-dir DIR)", dir);
		errno = ENOTDIR;
		return -1;
	}
	rc = GetNamedSecurityInfoA(dir, SE_FILE_OBJECT, DACL_SECURITY_INFORMATION | OWNER_SECURITY_INFORMATION, &owner,
				   NULL, &dacl, NULL, &sd);
	if (rc != ERROR_SUCCESS) {
		snprintf(err, errlen, "cannot read the permissions of state directory %s (error %lu; choose --state-dir DIR)",
			 dir, (unsigned long)rc);
		return -1;
	}
	if (!owner_trusted(owner)) {
		char name[256] = "?", dom[256] = "";
		DWORD nl = sizeof name, dl = sizeof dom;
		SID_NAME_USE use;

		if (owner != NULL)
			LookupAccountSidA(NULL, owner, name, &nl, dom, &dl, &use);
		snprintf(err, errlen, "state directory %s belongs to %s%s%s, not to this account, SYSTEM or Administrators: "
			 "its files could be planted (take ownership of it, or choose --state-dir DIR)",
			 dir, dom, dom[0] ? "\\" : "", name);
		LocalFree(sd);
		errno = EPERM;
		return -1;
	}
	for (DWORD i = 0; dacl != NULL && i < dacl->AceCount; i++) {
		ACE_HEADER *h;
		char name[256] = "?", dom[256] = "";
		DWORD nl = sizeof name, dl = sizeof dom;
		SID_NAME_USE use;

		if (!GetAce(dacl, i, (void **)&h) || h->AceType != ACCESS_ALLOWED_ACE_TYPE || (h->AceFlags & INHERIT_ONLY_ACE))
			continue;
		ACCESS_ALLOWED_ACE *a = (ACCESS_ALLOWED_ACE *)h;
		PSID sid = (PSID)&a->SidStart;

		if (!(a->Mask & writes) || sid_trusted(sid, owner))
			continue;
		LookupAccountSidA(NULL, sid, name, &nl, dom, &dl, &use);
		snprintf(err, errlen,
			 "state directory %s is writable by %s%s%s: others could plant netglobe's token, rules or database "
			 "there (remove that permission, or choose a private --state-dir DIR)",
			 dir, dom, dom[0] ? "\\" : "", name);
		LocalFree(sd);
		errno = EPERM;
		return -1;
	}
	if (dacl == NULL) {
		snprintf(err, errlen, "state directory %s has no access control list: everyone may write there "
				      "(choose a private --state-dir DIR)", dir);
		LocalFree(sd);
		errno = EPERM;
		return -1;
	}
	LocalFree(sd);
	return 0;
}

/* Create the state directory with a private ACL if missing, then judge its ACL. */
int state_dir_check(const char *dir, char *err, size_t errlen)
{
	if (private_mkdir(dir) != 0) {
		snprintf(err, errlen, "cannot use state directory %s: %s (fix it or choose --state-dir DIR)", dir,
			 strerror(errno));
		return -1;
	}
	return state_dir_judge(dir, err, errlen);
}

/* The ACL judgement alone, on a directory that must exist already. */
int state_dir_trust(const char *dir, char *err, size_t errlen)
{
	return state_dir_judge(dir, err, errlen);
}

/* A known folder's path in the ANSI code page (the A functions' encoding), into buf; false when unknown. */
static bool known_folder(REFKNOWNFOLDERID id, const char *env, char *buf, size_t len)
{
	PWSTR w = NULL;
	const char *e;
	bool ok = false;

	if (SHGetKnownFolderPath(id, 0, NULL, &w) == S_OK)
		ok = WideCharToMultiByte(CP_ACP, 0, w, -1, buf, (int)len, NULL, NULL) > 0;
	CoTaskMemFree(w);
	if (!ok && (e = getenv(env)) != NULL && *e && strlen(e) < len) {
		snprintf(buf, len, "%s", e);
		ok = true;
	}
	return ok;
}

/* %ProgramData%\netglobe for an elevated administrator (and a service), else %LOCALAPPDATA%\netglobe. */
const char *platform_state_dir_default(char *buf, size_t len)
{
	char base[MAX_PATH];
	bool admin = platform_is_admin();
	int n;

	if (!known_folder(admin ? &FOLDERID_ProgramData : &FOLDERID_LocalAppData, admin ? "ProgramData" : "LOCALAPPDATA",
			  base, sizeof base))
		return NULL;
	n = snprintf(buf, len, "%s\\netglobe", base);
	return n > 0 && (size_t)n < len ? buf : NULL;
}

/* Nothing to allow: Windows has no account switch (--user is refused), so no other owner is trusted. */
void state_owner_allow(uid_t uid)
{
	(void)uid;
}

/*
 * Open without trusting the path, as far as the CRT allows: open, fstat and
 * only a regular file. Windows has no O_NOFOLLOW (a symbolic link or
 * junction is followed) and its CRT has no owner or Unix modes: the state
 * directory's ACL (state_dir_check) is what keeps others from planting files.
 */
int ng_open_checked(const char *path, int flags, unsigned mode, unsigned how, char *why, size_t whylen)
{
	struct stat st;
	int fd, e;

	fd = open(path, flags, mode);
	if (fd < 0) {
		e = errno;
		if (e == EACCES && stat(path, &st) == 0 && S_ISDIR(st.st_mode))
			snprintf(why, whylen, "it is a directory, not a regular file%s", how ? " (remove it)" : "");
		else
			snprintf(why, whylen, "%s", strerror(e));
		errno = e;
		return -1;
	}
	if (fstat(fd, &st) != 0) {
		e = errno;
		snprintf(why, whylen, "%s", strerror(e));
		close(fd);
		errno = e;
		return -1;
	}
	if (!S_ISREG(st.st_mode)) {
		snprintf(why, whylen, "it is %s, not a regular file%s", S_ISDIR(st.st_mode) ? "a directory" : "a device",
			 how ? " (remove it)" : "");
		close(fd);
		errno = EINVAL;
		return -1;
	}
	return fd;
}
