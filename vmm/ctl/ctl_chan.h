/*
 * The control channel: uhv's management protocol (docs/protocol.md) on
 * COM2, a serial port no guest can reach. The protocol itself is pure
 * (ctl.c); this file moves its bytes without ever stalling the VMs for
 * long: received bytes are fed to the dispatcher as they arrive, and
 * replies and events go into a transmit ring that the run loop drains a
 * FIFO-full (16 bytes) at a time. While the channel is busy (bytes to
 * send, or a request arriving), the run loop polls it every
 * CTL_CHAN_FAST_POLL_US; otherwise every CTL_CHAN_SLOW_POLL_US, so an idle
 * channel costs a guest about 100 extra exits a second.
 */
#ifndef UHV_VMM_CONTROL_H
#define UHV_VMM_CONTROL_H

#include "lib/types.h"

#define CTL_CHAN_TX_RING   (64 * 1024)   /* bytes of replies and events (a
						   power of two: lib/bytering.h) */
#define CTL_CHAN_FAST_POLL_US 1000       /* 16 bytes per ms: > 115200 baud */
#define CTL_CHAN_SLOW_POLL_US 10000
#define CTL_CHAN_BUSY_US   50000         /* fast polling after the last byte */
#define CTL_CHAN_PARTIAL_TIMEOUT_S 2     /* silence that drops half a line */
#define CTL_CHAN_LOG_LIMIT 8             /* log lines per kind of trouble */

struct uhv;
struct vm;

/* Opens COM2 and writes the greeting; false if there is no UART. */
bool ctl_chan_init(struct uhv *h);
/* Is the channel open? (The run loop then never ends by itself.) */
bool ctl_chan_enabled(void);
/* Moves bytes both ways and handles any request completed; the TSC value
   by which it wants to be called again (~0 if the channel is off). */
u64 ctl_chan_poll(u64 now);
/* Sends everything queued, waiting for the UART (before power off). */
void ctl_chan_flush(void);

/* Events (docs/protocol.md "Events"); nothing happens when the channel
   is off. Each is one whole line in the transmit ring. */
void ctl_chan_vm_started(const struct vm *vm);
void ctl_chan_vm_stopped(const struct vm *vm);
void ctl_chan_guest_panicked(const struct vm *vm, const char *why);
void ctl_chan_agent_lost(const struct vm *vm);
void ctl_chan_agent_message(const struct vm *vm, u64 id, const char *data,
			   size_t len);
/* Bytes of vm's gdb stub for gdb while no gdb request is in flight (it
   stopped at a breakpoint while gdb waited): a gdb event. At most
   CTL_GDB_OUT_MAX bytes whose escapes fit a line (ctl_event_gdb); else
   nothing is sent, so a VMM passes what it has up to that (a stop reply
   is tens of bytes) and leaves the rest to gdb's next request. */
void ctl_chan_gdb_output(const struct vm *vm, const u8 *data, size_t len);

#endif
