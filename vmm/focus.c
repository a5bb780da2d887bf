/*
 * uhv's console keyboard. Bytes typed on uhv's console (COM1) go to the
 * UART of the VM that has the console focus, so a person can use a
 * guest's shell. Ctrl-A starts a uhv command:
 *
 *   Ctrl-A n        focus on the next running VM  Ctrl-A 1..8  focus on VM N
 *   Ctrl-A s        print every VM's statistics   Ctrl-A Ctrl-A  send Ctrl-A
 *
 * Only a running VM takes the focus: one whose image failed to load, or
 * that has stopped, would drop every key typed at it.
 *
 * uhv takes no interrupts, so the run loop polls: between time slices
 * and while it waits for a sleeping VM's timer.
 */
#include "vmm/vmm.h"
#include "vmm/vm_console.h"
#include "drivers/console.h"
#include "drivers/serial.h"
#include "vmm/focus.h"
#include "vmm/stats.h"

#define KEY_ESCAPE 0x01          /* Ctrl-A */
#define MAX_BYTES_PER_POLL 16    /* one FIFO's worth: never starve the VMs */

/* Can the VM take input: built, loaded and not stopped? A VM whose image
   failed to load is built but stopped (vm_build leaves it VM_ERROR). */
static bool running(const struct vm *vm)
{
	return vm->built && vm->result == VM_RUNNING;
}

/* The first running VM from index from on, wrapping around; -1 if no VM
   runs. */
static int next_running(const struct uhv *h, int from)
{
	for (int k = 0; k < h->nr_vms; k++) {
		int i = (from + k) % h->nr_vms;

		if (running(&h->vms[i]))
			return i;
	}
	return -1;
}

/* Focus on VM i if it runs; a stopped VM (one that failed to load, or
   ended) would drop every key, so the focus stays and uhv says why. */
static void set_focus(struct uhv *h, int i)
{
	if (i < 0 || i >= h->nr_vms || !h->vms[i].built) {
		printk("\nuhv: console focus: no VM %d\n", i + 1);
		return;
	}
	if (!running(&h->vms[i])) {
		printk("\nuhv: console focus: VM %s is stopped; focus stays on "
		       "%s\n", h->vms[i].name, focus_name(h));
		return;
	}
	h->focus.vm = i;
	printk("\nuhv: console focus: %s\n", h->vms[i].name);
	vm_console_focus(&h->vms[i].uart, h->vms[i].name);  /* its prompt */
}

/* Ctrl-A n: the next running VM after the focused one. */
static void focus_next(struct uhv *h)
{
	int i = h->nr_vms ? next_running(h, (h->focus.vm + 1) % h->nr_vms) : -1;

	if (i < 0)
		printk("\nuhv: console focus: no VM is running\n");
	else
		set_focus(h, i);
}

void focus_init(struct uhv *h)
{
	int i = next_running(h, 0);

	h->focus.vm = i < 0 ? 0 : i;
	vm_console_focus(i < 0 ? NULL : &h->vms[i].uart, NULL);
}

const char *focus_name(const struct uhv *h)
{
	if (h->focus.vm < 0 || h->focus.vm >= h->nr_vms ||
	    !running(&h->vms[h->focus.vm]))
		return "none";
	return h->vms[h->focus.vm].name;
}

/* Acts on the byte after Ctrl-A. */
static void command(struct uhv *h, int c)
{
	if (c == 'n')
		focus_next(h);
	else if (c >= '1' && c <= '8')
		set_focus(h, c - '1');
	else if (c == 's')
		stats_print(h, true);
	else if (c == KEY_ESCAPE)
		focus_deliver(h, KEY_ESCAPE);
	else
		printk("\nuhv: keys: Ctrl-A n (next VM), 1-8 (VM N), s (stats), "
		       "Ctrl-A (send Ctrl-A)\n");
}

void focus_deliver(struct uhv *h, u8 byte)
{
	struct vm *vm = &h->vms[h->focus.vm];

	if (!running(vm))
		return;
	uart_receive(&vm->uart, byte);   /* its IRQ marks the vCPU it reaches */
}

bool focus_poll(struct uhv *h)
{
	bool any = false;
	int c;

	for (int n = 0; n < MAX_BYTES_PER_POLL && (c = serial_getc()) >= 0; n++) {
		any = true;
		if (h->focus.escape) {
			h->focus.escape = false;
			command(h, c);
		} else if (c == KEY_ESCAPE) {
			h->focus.escape = true;
		} else {
			focus_deliver(h, (u8)c);
		}
	}
	return any;
}
