/*
 * The control channel on COM2 (control.h). One instance: uhv has one
 * management port. Lines are whole in the transmit ring before any byte
 * of them is sent, so an event never lands inside a reply.
 */
#include "vmm/ctl/ctl_chan.h"
#include "vmm/ctl/ctl.h"
#include "vmm/vmm.h"
#include "arch/x86/cpu.h"
#include "drivers/console.h"
#include "drivers/serial.h"
#include "vmm/ctl/ctl_vms.h"
#include "lib/version.h"

#define RX_PER_POLL 64         /* bytes taken per poll: bounds a poll's cost */

static struct control {
	bool on;
	struct serial_port port;
	struct ctl ctl;
	u8 buf[CTL_CHAN_TX_RING];
	struct bytering ring;   /* replies and events over buf */
	u64 busy_until;         /* TSC: poll fast until then */
	u64 fast, slow;         /* poll periods in TSC ticks */
	u64 lines_dropped;      /* events that found the ring full */
	u64 last_rx;            /* TSC of the last byte received */
	u64 partial_timeout;    /* TSC ticks of silence that drop a partial line */
	u64 partials_dropped;
	u64 answered;           /* requests answered (make bench) */
	u64 answer_ticks;       /* TSC ticks from their last byte to the reply queued */
	u64 answer_longest;
	char line[CTL_REPLY_MAX];      /* a reply */
	char event[CTL_REPLY_MAX];     /* an event (may come during a request) */
} chan;

bool ctl_chan_enabled(void)
{
	return chan.on;
}

/* Traffic: poll every CTL_CHAN_FAST_POLL_US for CTL_CHAN_BUSY_US more. */
static void stay_busy(u64 now)
{
	chan.busy_until = now + chan.fast * (CTL_CHAN_BUSY_US /
					     CTL_CHAN_FAST_POLL_US);
}

/*
 * Queues one whole line of len bytes. A reply waits for room (a client
 * that sent a request is reading); an event that does not fit is dropped
 * and counted rather than stall every VM behind a slow line.
 */
static void queue_line(const char *s, int len, bool wait)
{
	if (len <= 0)
		return;
	while (!bytering_put(&chan.ring, s, (u32)len)) {
		if (!wait) {
			if (chan.lines_dropped++ == 0)
				printk("uhv: control: transmit ring full, "
				       "dropping events\n");
			return;
		}
		serial_port_send(&chan.port, &chan.ring);
	}
	stay_busy(rdtsc());
	serial_port_send(&chan.port, &chan.ring);
}

bool ctl_chan_init(struct uhv *h)
{
	if (!serial_port_init(&chan.port, SERIAL_COM2))
		return false;
	bytering_init(&chan.ring, chan.buf, CTL_CHAN_TX_RING);
	chan.fast = MAX(h->tsc_hz / 1000000 * CTL_CHAN_FAST_POLL_US, 1ULL);
	chan.slow = MAX(h->tsc_hz / 1000000 * CTL_CHAN_SLOW_POLL_US, 1ULL);
	chan.partial_timeout = h->tsc_hz * CTL_CHAN_PARTIAL_TIMEOUT_S;
	ctl_init(&chan.ctl, &ctl_vms_ops, h, UHV_VERSION_STRING);
	chan.on = true;
	queue_line(chan.line, ctl_greeting(&chan.ctl, chan.line,
					    sizeof(chan.line)), true);
	return true;
}

/*
 * A serial line does not tell uhv that its client went away, so a request
 * cut off mid-line would glue itself to the next client's first line. A
 * partial line followed by seconds of silence is dropped instead.
 */
static void drop_stale_partial(u64 now)
{
	if (!chan.ctl.line_len || now - chan.last_rx < chan.partial_timeout)
		return;
	chan.ctl.line_len = 0;
	if (chan.partials_dropped++ < CTL_CHAN_LOG_LIMIT)
		printk("uhv: control: a request line stopped mid-way; dropped "
		       "after %d s of silence\n", CTL_CHAN_PARTIAL_TIMEOUT_S);
}

/*
 * Queues the reply a byte completed (len > 0) and counts the TSC ticks
 * from t0, that byte's arrival, to the reply in the ring: what a request
 * costs uhv itself, for make bench (tools/bench-control.sh).
 */
static void count_answer(u64 t0, int len)
{
	u64 d;

	queue_line(chan.line, len, true);
	if (len <= 0)
		return;
	d = rdtsc() - t0;
	chan.answered++;
	chan.answer_ticks += d;
	chan.answer_longest = MAX(chan.answer_longest, d);
}

u64 ctl_chan_poll(u64 now)
{
	u64 t0;
	int c;

	if (!chan.on)
		return ~0ULL;
	serial_port_send(&chan.port, &chan.ring);
	drop_stale_partial(now);
	for (int n = 0; n < RX_PER_POLL && (c = serial_port_getc(&chan.port)) >= 0;
	     n++) {
		stay_busy(now);
		chan.last_rx = now;
		t0 = rdtsc();   /* before ctl_feed: argument order is unspecified */
		count_answer(t0, ctl_feed(&chan.ctl, (char)c, chan.line,
					  sizeof(chan.line)));
	}
	return now + (bytering_used(&chan.ring) || now < chan.busy_until ?
		      chan.fast : chan.slow);
}

void ctl_chan_flush(void)
{
	if (!chan.on)
		return;
	if (chan.answered)
		printk("uhv: control: %llu requests answered, %llu ticks from "
		       "their last byte to the reply queued (mean %llu, "
		       "longest %llu)\n", (unsigned long long)chan.answered,
		       (unsigned long long)chan.answer_ticks,
		       (unsigned long long)(chan.answer_ticks / chan.answered),
		       (unsigned long long)chan.answer_longest);
	while (bytering_used(&chan.ring))
		serial_port_send(&chan.port, &chan.ring);
	serial_port_drain(&chan.port);
}

void ctl_chan_vm_started(const struct vm *vm)
{
	if (chan.on)
		queue_line(chan.event, ctl_event_vm_started(chan.event,
				sizeof(chan.event), vm->name), false);
}

void ctl_chan_vm_stopped(const struct vm *vm)
{
	if (chan.on)
		queue_line(chan.event, ctl_event_vm_stopped(chan.event,
				sizeof(chan.event), vm->name,
				vm_result_name(vm->result), vm->exit_status,
				vm->why), false);
}

void ctl_chan_guest_panicked(const struct vm *vm, const char *why)
{
	if (chan.on)
		queue_line(chan.event, ctl_event_guest_panicked(chan.event,
				sizeof(chan.event), vm->name, why), false);
}

void ctl_chan_agent_lost(const struct vm *vm)
{
	if (chan.on)
		queue_line(chan.event, ctl_event_agent_lost(chan.event,
				sizeof(chan.event), vm->name), false);
}

void ctl_chan_agent_message(const struct vm *vm, u64 id, const char *data,
			   size_t len)
{
	if (chan.on)
		queue_line(chan.event, ctl_event_agent_message(chan.event,
				sizeof(chan.event), vm->name, id, data, len),
			   false);
}

void ctl_chan_gdb_output(const struct vm *vm, const u8 *data, size_t len)
{
	if (chan.on)
		queue_line(chan.event, ctl_event_gdb(chan.event,
				sizeof(chan.event), vm->name, data, len),
			   false);
}
