/*
 * uhv's console keyboard. Bytes typed on uhv's console (COM1) go to the
 * UART of the VM that has the console focus, so a person can use a
 * guest's shell. Ctrl-A starts a uhv command:
 *
 *   Ctrl-A n        focus on the next VM          Ctrl-A 1..8  focus on VM N
 *   Ctrl-A s        print every VM's statistics   Ctrl-A Ctrl-A  send Ctrl-A
 *
 * uhv takes no interrupts, so the run loop polls: between time slices
 * and while it waits for a sleeping VM's timer.
 */
#include "vmm.h"
#include "../drivers/console.h"
#include "../drivers/serial.h"

#define KEY_ESCAPE 0x01          /* Ctrl-A */
#define MAX_BYTES_PER_POLL 16    /* one FIFO's worth: never starve the VMs */

static bool running(const struct vm *vm)
{
	return vm->built && vm->result == VM_RUNNING;
}

static void set_focus(struct uhv *h, int i)
{
	if (i < 0 || i >= h->nr_vms || !h->vms[i].built)
		return;
	h->focus = i;
	printk("\nuhv: console focus: %s%s\n", h->vms[i].name,
	       running(&h->vms[i]) ? "" : " (stopped)");
}

/* Acts on the byte after Ctrl-A. */
static void command(struct uhv *h, int c)
{
	if (c == 'n' && h->nr_vms)
		set_focus(h, (h->focus + 1) % h->nr_vms);
	else if (c >= '1' && c <= '8')
		set_focus(h, c - '1');
	else if (c == 's')
		vmm_stats(h, true);
	else if (c == KEY_ESCAPE)
		focus_deliver(h, KEY_ESCAPE);
	else
		printk("\nuhv: keys: Ctrl-A n (next VM), 1-8 (VM N), s (stats), "
		       "Ctrl-A (send Ctrl-A)\n");
}

void focus_deliver(struct uhv *h, u8 byte)
{
	struct vm *vm = &h->vms[h->focus];

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
		if (h->escape) {
			h->escape = false;
			command(h, c);
		} else if (c == KEY_ESCAPE) {
			h->escape = true;
		} else {
			focus_deliver(h, (u8)c);
		}
	}
	return any;
}
