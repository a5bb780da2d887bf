/*
 * The VM manager: struct ctl_ops (ctl.h) over uhv's VM slots, so the
 * control protocol (docs/protocol.md) can create, start, pause, resume,
 * stop and destroy VMs while the others run.
 *
 *            create          start            stop/exit
 *   (none) --------> created ------> running ------------> stopped
 *      ^                |            |     ^                  |  |
 *      |     destroy    |     pause  v     | resume    start  |  |
 *      +----------------+          paused -+          (afresh)+  |
 *      +---------------------------------------------------------+
 *                            destroy
 *
 * A slot (vmm.h) holds what a VM is: config, files, RAM. struct vm holds
 * a run and is rebuilt from zero by every start. The dispatcher has
 * already checked names and states; these functions check what only uhv
 * knows (memory, images, disks in use).
 */
#include "vmm/vmm.h"
#include "vmm/ctl/ctl_chan.h"
#include "arch/x86/cpu.h"
#include "drivers/console.h"
#include "lib/fmt.h"
#include "lib/string.h"
#include "vmm/exit.h"
#include "vmm/vm_agent.h"
#include "vmm/ctl/ctl_vms.h"
#include "vmm/vm_trace.h"
#include "vmm/vm_gdb.h"

static int find_vm(const struct uhv *h, const char *name)
{
	for (int i = 0; i < h->nr_vms; i++)
		if (h->slots[i].used && !strcmp(h->slots[i].cfg.name, name))
			return i;
	return -1;
}

static enum ctl_vm_state vm_state(const struct vm *vm)
{
	if (!vm->built)
		return CTL_VM_CREATED;
	if (vm->result != VM_RUNNING)
		return CTL_VM_STOPPED;
	if (vm->stopping)
		return CTL_VM_STOPPING;
	return vm->paused ? CTL_VM_PAUSED : CTL_VM_RUNNING;
}

static int m_list(void *ctx, struct ctl_vm_brief *out, int max)
{
	struct uhv *h = ctx;
	int n = 0;

	for (int i = 0; i < h->nr_vms && n < max; i++) {
		if (!h->slots[i].used)
			continue;
		str_copy(out[n].name, h->slots[i].cfg.name, sizeof(out[n].name));
		out[n++].state = vm_state(&h->vms[i]);
	}
	return n;
}

static bool m_info(void *ctx, const char *name, struct ctl_vm_info *in)
{
	struct uhv *h = ctx;
	int i = find_vm(h, name);
	const struct vm *vm;

	if (i < 0)
		return false;
	vm = &h->vms[i];
	in->state = vm_state(vm);
	in->cfg = h->slots[i].cfg;
	in->agent = vm->built && vm_agent_connected(vm);
	in->result = NULL;
	in->why[0] = 0;
	if (in->state == CTL_VM_STOPPED) {
		in->result = vm_result_name(vm->result);
		in->status = vm->exit_status;
		str_copy(in->why, vm->why, sizeof(in->why));
	}
	return true;
}

/*
 * A file uhv loaded at boot, by its name under \uhv\: one of the images
 * folder, or one a configured VM uses.
 */
static bool find_file(const struct uhv *h, const char *name, u64 *phys,
		      u64 *size)
{
	const struct boot_info *bi = h->bi;

	for (u32 i = 0; i < bi->nr_files; i++)
		if (!strcmp(bi->files[i].name, name)) {
			*phys = bi->files[i].phys;
			*size = bi->files[i].size;
			return true;
		}
	for (int i = 0; i < bi->config.nr_vms; i++) {
		const struct vm_config *c = &bi->config.vms[i];
		const struct boot_vm *b = &bi->vms[i];

		if (!strcmp(c->image, name) || !strcmp(c->initrd, name)) {
			bool img = !strcmp(c->image, name);

			*phys = img ? b->image_phys : b->initrd_phys;
			*size = img ? b->image_size : b->initrd_size;
			return true;
		}
		for (int d = 0; d < c->nr_disks; d++)
			if (!strcmp(c->disks[d].image, name) && b->disk_phys[d]) {
				*phys = b->disk_phys[d];
				*size = b->disk_size[d];
				return true;
			}
	}
	return false;
}

/* The used slot other than self whose VM has disk image as well, with
   one of the two writable: two writers would corrupt it. -1 if none. */
static int disk_conflict(const struct uhv *h, int self,
			 const struct disk_config *d)
{
	for (int i = 0; i < h->nr_vms; i++) {
		const struct vm_config *c = &h->slots[i].cfg;

		if (i == self || !h->slots[i].used)
			continue;
		for (int k = 0; k < c->nr_disks; k++)
			if (!strcmp(c->disks[k].image, d->image) &&
			    (!d->read_only || !c->disks[k].read_only))
				return i;
	}
	return -1;
}

/* Finds every file cfg names and checks its disks; CTL_OK or an error. */
static enum ctl_code gather_files(struct uhv *h, int slot,
				  const struct vm_config *cfg,
				  struct boot_vm *f, char *msg)
{
	const char *missing =
		!find_file(h, cfg->image, &f->image_phys, &f->image_size) ?
		cfg->image : cfg->initrd[0] &&
		!find_file(h, cfg->initrd, &f->initrd_phys, &f->initrd_size) ?
		cfg->initrd : NULL;

	if (missing) {
		fmt_sn(msg, CTL_MSG_MAX, "uhv did not load '%s' at boot (images "
		       "come from the images folder of uhv.cfg)", missing);
		return CTL_E_VALUE;
	}
	for (int d = 0; d < cfg->nr_disks; d++) {
		const struct disk_config *dc = &cfg->disks[d];
		int other = disk_conflict(h, slot, dc);

		if (other >= 0) {
			fmt_sn(msg, CTL_MSG_MAX, "disk '%s' is in use by VM '%s'",
			       dc->image, h->slots[other].cfg.name);
			return CTL_E_VALUE;
		}
		if (strncmp(dc->image, "host:", 5) &&
		    !find_file(h, dc->image, &f->disk_phys[d], &f->disk_size[d])) {
			fmt_sn(msg, CTL_MSG_MAX, "uhv did not load disk '%s' at "
			       "boot", dc->image);
			return CTL_E_VALUE;
		}
	}
	return CTL_OK;
}

static enum ctl_code m_create(void *ctx, const struct vm_config *cfg,
			      char *msg)
{
	struct uhv *h = ctx;
	struct vm_slot *s;
	u64 need = ALIGN_UP(cfg->memory, RAMPOOL_ALIGN);
	struct boot_vm files = { 0 };
	enum ctl_code code;
	int i = 0;

	while (i < CFG_MAX_VMS && h->slots[i].used)
		i++;
	if (i == CFG_MAX_VMS) {
		fmt_sn(msg, CTL_MSG_MAX, "all %d VM slots are in use",
		       CFG_MAX_VMS);
		return CTL_E_NO_ROOM;
	}
	if ((code = gather_files(h, i, cfg, &files, msg)))
		return code;
	s = &h->slots[i];
	s->ram_phys = rampool_alloc(&h->ram, need);
	if (!s->ram_phys) {
		fmt_sn(msg, CTL_MSG_MAX, "not enough memory: %lluM asked, "
		       "largest free piece %lluM (config key reserve)",
		       (unsigned long long)(need >> 20),
		       (unsigned long long)(rampool_largest(&h->ram) >> 20));
		return CTL_E_NO_ROOM;
	}
	s->used = true;
	s->cfg = *cfg;
	s->files = files;
	s->ram_size = need;
	s->ram_clean = false;
	h->vms[i] = (struct vm){ .id = i, .cfg = &s->cfg, .name = s->cfg.name };
	h->nr_vms = MAX(h->nr_vms, i + 1);
	printk("uhv: control: created vm %s: %s, %lluM RAM at 0x%llx\n",
	       cfg->name, cfg->image, (unsigned long long)(need >> 20),
	       (unsigned long long)s->ram_phys);
	return CTL_OK;
}

static enum ctl_code m_start(void *ctx, const char *name, char *msg)
{
	struct uhv *h = ctx;
	int i = find_vm(h, name);

	vm_teardown(h, &h->vms[i]);          /* a stopped VM starts afresh */
	vm_build(h, i);
	if (h->vms[i].result != VM_RUNNING) {
		str_copy(msg, h->vms[i].why, CTL_MSG_MAX);
		return CTL_E_INTERNAL;
	}
	return CTL_OK;
}

static enum ctl_code m_pause(void *ctx, const char *name, char *msg)
{
	struct uhv *h = ctx;

	(void)msg;
	h->vms[find_vm(h, name)].paused = true;
	return CTL_OK;
}

static enum ctl_code m_resume(void *ctx, const char *name, char *msg)
{
	struct uhv *h = ctx;

	(void)msg;
	h->vms[find_vm(h, name)].paused = false;
	h->sched.changed = true;
	return CTL_OK;
}

/*
 * Graceful first: the guest agent's shutdown if one is connected, else
 * the ACPI power button; ctl_vms_tick stops the VM outright at the deadline.
 * A paused VM is resumed, or it could not react.
 */
static enum ctl_code m_stop(void *ctx, const char *name, u32 timeout_s,
			    char *msg)
{
	struct uhv *h = ctx;
	struct vm *vm = &h->vms[find_vm(h, name)];
	char ignored[CTL_MSG_MAX];

	(void)msg;
	if (!timeout_s) {
		vm_stop(vm, VM_KILLED, "stopped by the control channel");
		return CTL_OK;
	}
	vm->paused = false;
	vm->stopping = true;
	vm->stop_deadline = rdtsc() + timeout_s * h->tsc_hz;
	h->sched.changed = true;
	if (vm_agent_connected(vm) &&
	    vm_agent_request(vm, 0, "shutdown", 8, ignored) == CTL_OK) {
		printk("uhv: vm %s: asked its agent to shut down (%us)\n",
		       vm->name, timeout_s);
		return CTL_OK;
	}
	printk("uhv: vm %s: pressed its power button (%us)\n", vm->name,
	       timeout_s);
	platform_power_button(vm);
	return CTL_OK;
}

static enum ctl_code m_destroy(void *ctx, const char *name, char *msg)
{
	struct uhv *h = ctx;
	int i = find_vm(h, name);
	struct vm_slot *s = &h->slots[i];

	(void)msg;
	vm_teardown(h, &h->vms[i]);
	if (rampool_free(&h->ram, s->ram_phys, s->ram_size))
		printk("uhv: control: vm %s: its RAM could not go back to the "
		       "pool\n", name);
	printk("uhv: control: destroyed vm %s, %lluM RAM freed (%lluM free)\n",
	       name, (unsigned long long)(s->ram_size >> 20),
	       (unsigned long long)(h->ram.free_bytes >> 20));
	memset(s, 0, sizeof(*s));
	h->vms[i] = (struct vm){ .id = i, .name = "" };
	while (h->nr_vms && !h->slots[h->nr_vms - 1].used)
		h->nr_vms--;
	if (h->focus.vm >= h->nr_vms)
		h->focus.vm = 0;
	return CTL_OK;
}

static enum ctl_code m_agent(void *ctx, const char *name, u64 id,
			     const char *data, size_t len, char *msg)
{
	struct uhv *h = ctx;

	return vm_agent_request(&h->vms[find_vm(h, name)], id, data, len, msg);
}

/* Every VM stops now; the run loop ends, uhv prints its summary and
   powers off after the reply has been sent (ctl_chan_flush). */
static enum ctl_code m_shutdown(void *ctx, char *msg)
{
	struct uhv *h = ctx;

	(void)msg;
	for (int i = 0; i < h->nr_vms; i++)
		if (h->vms[i].built && h->vms[i].result == VM_RUNNING)
			vm_stop(&h->vms[i], VM_KILLED, "uhv shut down by the "
				"control channel");
	h->sched.shutdown = true;
	return CTL_OK;
}

/* Its NICs' bridge port counters (sent = tx, delivered to it = rx). */
static void nic_stats(const struct uhv *h, const struct vm *vm,
		      struct ctl_vm_stats *st)
{
	for (int n = 0; vm->built && n < vm->cfg->nr_nets; n++) {
		const struct vm_nic *nic = &vm->nics[n];
		const struct bridge_port_stats *p;
		struct ctl_nic_stats *o = &st->nics[n];

		if (!nic->bridge || nic->port < 0 ||
		    !(p = bridge_port_stats(&h->bridge, nic->port)))
			break;
		memcpy(o->mac, nic->mac, sizeof(o->mac));
		str_copy(o->network, nic->cfg->network, sizeof(o->network));
		o->tx_frames = p->tx_frames;
		o->tx_bytes = p->tx_bytes;
		o->rx_frames = p->rx_frames;
		o->rx_bytes = p->rx_bytes;
		for (int k = 0; k < BRIDGE_DROP_MAX; k++)
			o->drops += p->drops[k];
		st->nr_nics = n + 1;
	}
}

/* A VM's counters for the stats command: exits, CPU time, disks, NICs. */
static bool manager_stats(void *ctx, const char *name, struct ctl_vm_stats *st)
{
	struct uhv *h = ctx;
	int i = find_vm(h, name);
	const struct vm *vm;
	u64 us = h->tsc_hz / 1000000 ? h->tsc_hz / 1000000 : 1;

	if (i < 0)
		return false;
	vm = &h->vms[i];
	st->state = vm_state(vm);
	st->cpu_us = vm->cpu_ticks / us;
	st->now_us = (rdtsc() - h->boot_tsc) / us;
	for (u32 r = 0; r < EXIT_REASON_MAX; r++) {
		st->exits += vm->exits[r];
		if (vm->exits[r] && st->nr_reasons < CTL_STATS_REASONS)
			st->reasons[st->nr_reasons++] = (struct ctl_counter){
				exit_reason_name(r), vm->exits[r] };
	}
	for (int c = 0; c < vm->nr_vcpus; c++)
		st->slices += vm->vcpus[c].slices;
	for (int d = 0; vm->built && d < vm->cfg->nr_disks && vm->disks[d].vm;
	     d++) {
		const struct virtio_blk *b = &vm->disks[d].blk;

		st->disks[d] = (struct ctl_disk_stats){ .reads = b->reads,
			.writes = b->writes, .read_bytes = b->read_bytes,
			.write_bytes = b->write_bytes, .flushes = b->flushes,
			.errors = b->errors };
		str_copy(st->disks[d].name, vm->cfg->disks[d].image,
			 sizeof(st->disks[d].name));
		st->nr_disks = d + 1;
	}
	nic_stats(h, vm, st);
	return true;
}

/* A VM's exit trace: its mode (its slot's config, for a VM not yet
   started too) and its ring, which the VM's next start empties. */
static bool m_trace(void *ctx, const char *name, struct ctl_trace *tr)
{
	struct uhv *h = ctx;
	int i = find_vm(h, name);

	if (i < 0)
		return false;
	tr->mode = h->slots[i].cfg.trace;
	tr->ring = &h->vms[i].trace;
	tr->reason_name = exit_reason_name;
	return true;
}

/*
 * Sets the trace key of the VM's slot, as uhv.cfg would (a running VM's
 * config is its slot's): the run loop picks the handler for the next
 * slice by it (exit_handler). Turned on, the next record's delta is 0.
 */
static enum ctl_code m_trace_set(void *ctx, const char *name, bool on,
				 char *msg)
{
	struct uhv *h = ctx;
	int i = find_vm(h, name);
	struct vm_config *cfg = &h->slots[i].cfg;
	bool was_on = cfg->trace != CFG_TRACE_OFF;

	(void)msg;
	if (!on)
		cfg->trace = CFG_TRACE_OFF;
	else if (!was_on)
		cfg->trace = CFG_TRACE_ON;
	if (on && !was_on)
		vm_trace_resumed(&h->vms[i]);
	if (on != was_on)
		printk("uhv: vm %s: exit trace %s (control channel)\n", name,
		       on ? "on" : "off");
	return CTL_OK;
}

/* gdb's bytes for the VM's stub, and the stub's answers (vm_gdb.c). */
static enum ctl_code m_gdb(void *ctx, const char *name, const u8 *in,
			   size_t len, u8 *out, size_t out_max,
			   size_t *out_len, bool *more, char *msg)
{
	struct uhv *h = ctx;

	return vm_gdb_request(h, &h->vms[find_vm(h, name)], in, len, out,
			      out_max, out_len, more, msg);
}

/* Deadlines of stops in progress, and the agents' heartbeats. */
void ctl_vms_tick(struct uhv *h, u64 now)
{
	for (int i = 0; i < h->nr_vms; i++) {
		struct vm *vm = &h->vms[i];

		if (!vm->built || vm->result != VM_RUNNING)
			continue;
		vm_agent_tick(vm, now);
		if (vm->stopping && now >= vm->stop_deadline)
			vm_stop(vm, VM_KILLED, "did not power off in time: "
				"stopped outright");
	}
}

const struct ctl_ops ctl_vms_ops = {
	.list = m_list, .info = m_info, .create = m_create, .start = m_start,
	.pause = m_pause, .resume = m_resume, .stop = m_stop,
	.destroy = m_destroy, .stats = manager_stats, .agent = m_agent,
	.shutdown = m_shutdown, .trace = m_trace, .trace_set = m_trace_set,
	.gdb = m_gdb,
};
