/*
 * A VM's guest agent channel (config: agent = on): the virtio-console
 * device (virtio_console.c) on PCI slot AGENT_SLOT, behind the shared
 * virtio-pci glue (vm_virtio.c), with the agent line protocol (agent.c)
 * as its backend. What the agent says reaches the control channel only
 * as this VM's agent_message and agent_lost events (control.c), whose
 * JSON writer escapes every byte.
 *
 *   guest /dev/hvc0 --transmitq--> virtio_console --receive--> agent_input
 *        --message--> ctl_chan_agent_message(vm, id, data)
 *   control "agent" --> vm_agent_request --> agent_request
 *        --send--> virtio_console_write --receiveq--> guest
 */
#include "vmm/vmm.h"
#include "vmm/ctl/ctl_chan.h"
#include "arch/x86/cpu.h"
#include "drivers/console.h"
#include "lib/fmt.h"
#include "vmm/vm_virtio.h"
#include "vmm/vm_agent.h"

/* After the disks' and NICs' slots (vm_disks.c, vm_nics.c). */
#define AGENT_SLOT (1 + CFG_MAX_DISKS + CFG_MAX_NICS)

static struct vm *agent_vm(void *ctx)
{
	return ctx;
}

/* The device's backend: the guest's bytes, into the line protocol. */
static void con_receive(void *ctx, const u8 *data, u32 len)
{
	agent_input(&agent_vm(ctx)->agent.agent, data, len, rdtsc());
}

static const struct console_backend_ops con_backend = { con_receive };

static int agent_send(void *ctx, const char *data, size_t len)
{
	return virtio_console_write(&agent_vm(ctx)->agent.con, (const u8 *)data,
				    (u32)len);
}

static void agent_message(void *ctx, u64 id, const char *data, size_t len)
{
	ctl_chan_agent_message(agent_vm(ctx), id, data, len);
}

static void agent_lost(void *ctx)
{
	ctl_chan_agent_lost(agent_vm(ctx));
}

static void agent_log(void *ctx, const char *msg)
{
	printk("uhv: vm %s: %s\n", agent_vm(ctx)->name, msg);
}

static const struct agent_ops agent_ops = {
	agent_send, agent_message, agent_lost, agent_log,
};

int vm_add_agent(struct uhv *h, struct vm *vm)
{
	struct vm_agent *va = &vm->agent;

	if (!vm->cfg->agent)
		return 0;
	agent_init(&va->agent, &agent_ops, vm, h->tsc_hz, rdtsc());
	if (virtio_console_init(&va->con, &con_backend, vm) ||
	    vm_virtio_add(vm, &va->dev, AGENT_SLOT, &va->con.ops, &va->con,
			  "virtio-console"))
		return -1;
	virtio_console_attach(&va->con, &va->dev.vp);
	va->on = true;
	printk("uhv: vm %s: agent channel: virtio-console at 00:%02x.0 (Linux: "
	       "/dev/hvc0)\n", vm->name, AGENT_SLOT);
	return 0;
}

bool vm_agent_connected(const struct vm *vm)
{
	return vm->agent.on && vm->result == VM_RUNNING &&
	       agent_connected(&vm->agent.agent);
}

enum ctl_code vm_agent_request(struct vm *vm, u64 id, const char *data,
			       size_t len, char *msg)
{
	char why[CTL_MSG_MAX];
	enum ctl_code code;

	if (!vm_agent_connected(vm)) {
		fmt_sn(msg, CTL_MSG_MAX, "VM '%s' has no guest agent connected",
		       vm->name);
		return CTL_E_STATE;
	}
	code = agent_request(&vm->agent.agent, id, data, len, rdtsc(), why);
	if (code != CTL_OK)
		fmt_sn(msg, CTL_MSG_MAX, "VM '%s': %s", vm->name, why);
	return code;
}

void vm_agent_tick(struct vm *vm, u64 now)
{
	if (!vm->agent.on)
		return;
	if (vm->paused || vm->dbg_stopped)   /* it cannot beat: not lost */
		agent_hold(&vm->agent.agent, now);
	else
		agent_tick(&vm->agent.agent, now);
}

void vm_agent_summary(const struct vm *vm)
{
	const struct agent_stats *s = &vm->agent.agent.stats;
	const struct virtio_console_stats *c = &vm->agent.con.stats;

	if (!vm->agent.on)
		return;
	printk("uhv:   agent: %llu requests, %llu answers, %llu heartbeats, "
	       "connected %llu times, lost %llu; dropped %llu too long, %llu "
	       "over the rate, %llu malformed, %llu unknown ids; %llu bytes in, "
	       "%llu out\n", (unsigned long long)s->requests,
	       (unsigned long long)s->answers, (unsigned long long)s->heartbeats,
	       (unsigned long long)s->connects, (unsigned long long)s->losses,
	       (unsigned long long)s->drops[AGENT_DROP_TOO_LONG],
	       (unsigned long long)s->drops[AGENT_DROP_RATE],
	       (unsigned long long)s->drops[AGENT_DROP_MALFORMED],
	       (unsigned long long)s->drops[AGENT_DROP_UNKNOWN_ID],
	       (unsigned long long)c->tx_bytes, (unsigned long long)c->rx_bytes);
}
