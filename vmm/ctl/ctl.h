/*
 * The management protocol's dispatcher (docs/protocol.md): newline-
 * delimited JSON on uhv's second serial port. A client sends one request
 * per line, {"id":N,"cmd":"...",...}; uhv answers each with one line,
 * {"id":N,"ok":true,...} or {"id":N,"ok":false,"error":{...}}, and writes
 * unsolicited event lines, {"event":"...",...}, as things happen.
 *
 * This part is pure: it parses and checks a request, calls the VM manager
 * through struct ctl_ops, and formats the reply. It never touches a VM
 * itself, so the host tests drive it with a fake manager. It checks what
 * it can before calling an operation (fields, types, that the VM exists,
 * that it is in a state the command applies to), so an operation is only
 * called when it is expected to succeed.
 *
 * Not reentrant: one struct ctl per port, used from one place.
 */
#ifndef UHV_VMM_CTL_H
#define UHV_VMM_CTL_H

#include "vmm/config.h"
#include "lib/json.h"
#include "vmm/trace/exit_trace.h"

#define CTL_PROTOCOL_VERSION 1
#define CTL_REPLY_MAX 8192      /* buffer for a reply or event line */
#define CTL_MSG_MAX 160         /* an error message, with its NUL */
#define CTL_MAX_VMS CFG_MAX_VMS
#define CTL_STATS_REASONS 64    /* exit reasons in one stats reply */
#define CTL_AGENT_MAX 512       /* bytes of one agent message */
#define CTL_LIST_MAX 4          /* values of a repeated key (disk) */
/*
 * gdb's bytes (the gdb command): at most CTL_GDB_IN_MAX in a request, at
 * most CTL_GDB_OUT_MAX back in a reply, and fewer when their escapes
 * (json_bytes_len) would not leave CTL_GDB_REPLY_HEAD bytes of a
 * JSON_LINE_MAX line for the reply's other members; "more" then says
 * that the stub has bytes left. An ask for fewer than CTL_GDB_ASK_MIN
 * bytes is left to the next request.
 */
#define CTL_GDB_IN_MAX CTL_AGENT_MAX
#define CTL_GDB_OUT_MAX 2048
#define CTL_GDB_REPLY_HEAD 64
#define CTL_GDB_ASK_MIN 64
#define CTL_STOP_TIMEOUT_DEFAULT 30     /* seconds */
#define CTL_STOP_TIMEOUT_MAX 3600
/*
 * Records in one trace reply. What uhv writes keeps to the limits of what
 * it reads (docs/protocol.md; the relay reads replies with uhv's parser):
 * at most JSON_MAX_TOKENS values and names, JSON_LINE_MAX bytes. A record
 * is an array of 6 values, 7 tokens; the reply's other members take
 * CTL_TRACE_HEAD_TOKENS; and a record's text is at most CTL_TRACE_REC_JSON
 * bytes (20-digit seq and delta, the longest reason name, a 64-bit RIP,
 * TRACE_DETAIL_MAX of detail). ctl.c checks that both fit.
 */
#define CTL_TRACE_MAX 15
#define CTL_TRACE_REC_TOKENS 7
#define CTL_TRACE_HEAD_TOKENS 17
#define CTL_TRACE_REC_JSON 150
/* RFC 8259 §6: integers beyond 2^53 - 1 lose precision in many readers
   (JavaScript's among them), so a request id must stay within it. */
#define CTL_ID_MAX ((1ULL << 53) - 1)

/* The error codes, as "code" in an error reply (ctl_code_name). */
enum ctl_code {
	CTL_OK,
	CTL_E_PARSE,            /* parse_error: the line is not JSON */
	CTL_E_TOO_LONG,         /* line_too_long */
	CTL_E_UNKNOWN_CMD,      /* unknown_command */
	CTL_E_UNKNOWN_FIELD,    /* unknown_field */
	CTL_E_DUP_FIELD,        /* duplicate_field */
	CTL_E_TYPE,             /* wrong_type */
	CTL_E_MISSING,          /* missing_field */
	CTL_E_VALUE,            /* invalid_value: right type, wrong value */
	CTL_E_NO_VM,            /* no_such_vm */
	CTL_E_STATE,            /* bad_state */
	CTL_E_EXISTS,           /* vm_exists */
	CTL_E_NO_ROOM,          /* no_room: no VM slot or memory left */
	CTL_E_INTERNAL,         /* internal_error: a bug, or a failed action */
	CTL_CODE_COUNT,
};

enum ctl_vm_state {
	CTL_VM_CREATED,         /* defined, never started */
	CTL_VM_RUNNING,
	CTL_VM_PAUSED,
	CTL_VM_STOPPING,        /* asked to power off, not yet off */
	CTL_VM_STOPPED,
	CTL_VM_STATE_COUNT,
};

struct ctl_vm_brief {
	char name[CFG_NAME_MAX];
	enum ctl_vm_state state;
};

struct ctl_vm_info {
	enum ctl_vm_state state;
	struct vm_config cfg;   /* name, image, initrd, memory, cmdline */
	bool agent;             /* its guest agent is connected */
	/* when stopped: how (vm_result_name(): "exit", "poweroff"...), the
	   debug-exit status (result "exit") and uhv's sentence; else NULL */
	const char *result;
	u32 status;
	char why[CTL_MSG_MAX];
};

struct ctl_counter {
	const char *name;       /* e.g. exit_reason_name(r) */
	u64 count;
};

/* A virtio-blk disk's counters in a stats reply. */
struct ctl_disk_stats {
	char name[CFG_PATH_MAX];        /* its image, as configured */
	u64 reads, writes, read_bytes, write_bytes, flushes, errors;
};

/* A NIC's bridge port counters in a stats reply. */
struct ctl_nic_stats {
	u8 mac[6];
	char network[CFG_NAME_MAX];
	u64 tx_frames, tx_bytes, rx_frames, rx_bytes, drops;
};

struct ctl_vm_stats {
	enum ctl_vm_state state;
	u64 cpu_us;             /* time its vCPUs ran, uhv's clock */
	u64 now_us;             /* uhv's clock (since boot) now */
	int nr_disks, nr_nics;
	struct ctl_disk_stats disks[CFG_MAX_DISKS];
	struct ctl_nic_stats nics[CFG_MAX_NICS];
	u64 exits;              /* all exits */
	u64 slices;             /* time slices it was given */
	int nr_reasons;
	struct ctl_counter reasons[CTL_STATS_REASONS];  /* nonzero ones */
};

/* A VM's exit trace, for the trace command. */
struct ctl_trace {
	enum cfg_trace mode;    /* as its config says now (trace command or
				   uhv.cfg): off, on, console */
	const struct trace *ring;   /* its records, valid during the request;
				       NULL (or empty) if it has none */
	const char *(*reason_name)(u32 reason);   /* exit_reason_name() */
};

/*
 * The VM manager, implemented by uhv (and by the tests' fake). vm is a
 * NUL-terminated name. The actions return CTL_OK, or an error code and
 * optionally a sentence in msg (CTL_MSG_MAX bytes, "" on entry; left
 * empty, the reply says "<cmd> failed"). The dispatcher has already
 * checked that the VM exists and is in a state the action applies to;
 * the action still checks whatever else could fail (room, memory, image).
 */
struct ctl_ops {
	/* Fills out[0..max) with every VM, in a stable order; their number. */
	int (*list)(void *ctx, struct ctl_vm_brief *out, int max);
	/* Fills *info; false if there is no VM named vm. */
	bool (*info)(void *ctx, const char *vm, struct ctl_vm_info *info);
	/* Adds a VM (state created) from cfg, which config.c's rules have
	   accepted and whose name is not in use. cfg is only valid during
	   the call: copy it. */
	enum ctl_code (*create)(void *ctx, const struct vm_config *cfg,
				char *msg);
	/* created or stopped -> running (a stopped VM starts afresh) */
	enum ctl_code (*start)(void *ctx, const char *vm, char *msg);
	/* running -> paused: it gets no more time slices */
	enum ctl_code (*pause)(void *ctx, const char *vm, char *msg);
	/* paused -> running */
	enum ctl_code (*resume)(void *ctx, const char *vm, char *msg);
	/* running, paused or stopping -> stopping, or stopped: asks the guest
	   to power off (ACPI power button) and stops it outright once
	   timeout_s seconds have passed; 0 stops it at once. A stop while
	   stopping replaces the deadline. vm_stopped follows as an event. */
	enum ctl_code (*stop)(void *ctx, const char *vm, u32 timeout_s,
			      char *msg);
	/* created or stopped -> gone: frees its memory and its slot */
	enum ctl_code (*destroy)(void *ctx, const char *vm, char *msg);
	/* Fills *st; false if there is no VM named vm. */
	bool (*stats)(void *ctx, const char *vm, struct ctl_vm_stats *st);
	/* Passes data[0..len) (UTF-8, no NUL) to the running VM's guest
	   agent (connected); its answer comes back later as an
	   agent_message event carrying id. */
	enum ctl_code (*agent)(void *ctx, const char *vm, u64 id,
			       const char *data, size_t len, char *msg);
	/* Stops every VM and powers uhv off once the reply has gone out. */
	enum ctl_code (*shutdown)(void *ctx, char *msg);
	/* Fills *tr with VM vm's exit trace; false if there is no such VM. */
	bool (*trace)(void *ctx, const char *vm, struct ctl_trace *tr);
	/* Turns VM vm's exit trace on (trace = on, or console if its config
	   already says so) or off, as its [vm] section would: kept across
	   restarts, and at once if it runs. */
	enum ctl_code (*trace_set)(void *ctx, const char *vm, bool on,
				   char *msg);
	/* Passes in[0..len) (bytes from gdb, as the GDB remote protocol
	   has them: packets, acknowledgements, a lone 0x03 for Ctrl-C; len
	   may be 0) to the gdb stub of VM vm (running or paused; the first
	   bytes attach it and stop the VM), then moves up to out_max of the
	   stub's bytes for gdb into out: *out_len of them, and *more set
	   when it still holds some. One request may call it again with
	   len 0 to take more. NULL: uhv has no gdb stub (internal_error). */
	enum ctl_code (*gdb)(void *ctx, const char *vm, const u8 *in,
			     size_t len, u8 *out, size_t out_max,
			     size_t *out_len, bool *more, char *msg);
};

struct ctl {
	const struct ctl_ops *ops;
	void *ctx;
	const char *version;            /* uhv's, e.g. "0.1" */
	char line[JSON_LINE_MAX];       /* the request being received */
	size_t line_len;                /* may exceed the buffer: too long */
	char msg[CTL_MSG_MAX];          /* the error message being built */
	struct json_tok toks[JSON_MAX_TOKENS];
	/* scratch for the commands */
	struct ctl_vm_info info;
	struct ctl_vm_stats stats;
	struct ctl_vm_brief list[CTL_MAX_VMS];
	char value[CTL_AGENT_MAX + 1];  /* a field's value, unescaped */
	char text[4096];                /* create: the request as uhv.cfg */
	u8 gdb_out[CTL_GDB_OUT_MAX];    /* gdb: the stub's bytes for gdb */
	struct uhv_config cfg;
};

void ctl_init(struct ctl *c, const struct ctl_ops *ops, void *ctx,
	      const char *version);

/*
 * Each function below writes one whole line into out (size bytes; at
 * least CTL_REPLY_MAX for ctl_feed and ctl_handle): the JSON text, '\n',
 * then a NUL. It returns the line's length with the newline, or 0 when
 * nothing is to be sent, or -1 if an event does not fit (nothing sent).
 */

/* The greeting for a client that connects:
   {"event":"hello","protocol":1,"uhv":"<version>"} */
int ctl_greeting(const struct ctl *c, char *out, size_t size);
/* Takes one byte received on the port; at a newline, handles the line
   and returns its reply. Lines longer than JSON_LINE_MAX are dropped
   whole and answered with line_too_long. */
int ctl_feed(struct ctl *c, char byte, char *out, size_t size);
/* Handles one request line (len bytes, without the newline). A blank
   line gets no reply (returns 0). */
int ctl_handle(struct ctl *c, const char *line, size_t len, char *out,
	       size_t size);

int ctl_event_vm_started(char *out, size_t size, const char *vm);
/* result, status, why: as in struct ctl_vm_info */
int ctl_event_vm_stopped(char *out, size_t size, const char *vm,
			 const char *result, u32 status, const char *why);
int ctl_event_guest_panicked(char *out, size_t size, const char *vm,
			     const char *why);
int ctl_event_agent_lost(char *out, size_t size, const char *vm);
/* The answer of a guest agent to the agent request with this id. */
int ctl_event_agent_message(char *out, size_t size, const char *vm, u64 id,
			    const char *data, size_t len);
/* Bytes of VM vm's gdb stub for gdb, sent without a request (a stop
   while gdb waits): data[0..len), as the gdb reply's "data" has them.
   A VM sends at most CTL_GDB_OUT_MAX at once (else -1: no room). */
int ctl_event_gdb(char *out, size_t size, const char *vm, const u8 *data,
		  size_t len);

/*
 * For ctl.c's create (ctl_create.c): the VM named by string token name of
 * the request text js, with the keys set[0..n) (a key's value token: a
 * string, an integer or an array of strings, the key repeated), built and
 * checked by config.c as a [vm NAME] section of uhv.cfg. Returns CTL_OK
 * and *vm (valid until the next request), or CTL_E_VALUE with c->msg.
 */
struct ctl_cfg_key {
	const char *key;
	int tok;
};

enum ctl_code ctl_vm_config(struct ctl *c, const char *js, int name,
			    const struct ctl_cfg_key *set, int n,
			    const struct vm_config **vm);

/* For ctl.c's stats (ctl_line.c): the "disks" and "nics" members. */
void ctl_put_device_stats(struct json_writer *w, const struct ctl_vm_stats *st);

const char *ctl_code_name(enum ctl_code code);
const char *ctl_state_name(enum ctl_vm_state state);

#endif
