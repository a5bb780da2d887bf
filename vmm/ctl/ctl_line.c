/*
 * The protocol's lines (docs/protocol.md), apart from the replies: the
 * bytes a client sends, cut into request lines; the greeting a client
 * gets when it connects; and the events uhv reports as they happen. An
 * event is one JSON object with an "event" member, so a client tells it
 * from a reply, which has "id" instead.
 */
#include "vmm/ctl/ctl.h"
#include "lib/fmt.h"
#include "lib/string.h"

void ctl_init(struct ctl *c, const struct ctl_ops *ops, void *ctx,
	      const char *version)
{
	memset(c, 0, sizeof(*c));
	c->ops = ops;
	c->ctx = ctx;
	c->version = version ? version : "";
}

int ctl_feed(struct ctl *c, char byte, char *out, size_t size)
{
	size_t len = c->line_len;

	if (byte != '\n') {
		if (len < sizeof(c->line))
			c->line[len] = byte;
		if (len <= sizeof(c->line))     /* stops one past: too long */
			c->line_len++;
		return 0;
	}
	c->line_len = 0;
	/* a dropped line: ctl_handle looks at nothing but its length */
	return ctl_handle(c, c->line, len, out, size);
}

/* An event line's start: {"event":EVENT,"vm":VM (if any) */
static void begin_event(struct json_writer *w, char *out, size_t size,
			const char *event, const char *vm)
{
	json_w_init(w, out, size);
	json_w_object(w);
	json_w_kstr(w, "event", event);
	if (vm)
		json_w_kstr(w, "vm", vm);
}

/* The event's end, and its line's length or -1. */
static int end_event(struct json_writer *w)
{
	json_w_object_end(w);
	return json_w_end_line(w);
}

int ctl_greeting(const struct ctl *c, char *out, size_t size)
{
	struct json_writer w;

	begin_event(&w, out, size, "hello", NULL);
	json_w_ku64(&w, "protocol", CTL_PROTOCOL_VERSION);
	json_w_kstr(&w, "uhv", c->version);
	return end_event(&w);
}

int ctl_event_vm_started(char *out, size_t size, const char *vm)
{
	struct json_writer w;

	begin_event(&w, out, size, "vm_started", vm);
	return end_event(&w);
}

int ctl_event_vm_stopped(char *out, size_t size, const char *vm,
			 const char *result, u32 status, const char *why)
{
	struct json_writer w;

	begin_event(&w, out, size, "vm_stopped", vm);
	json_w_kstr(&w, "result", result ? result : "");
	json_w_ku64(&w, "status", status);
	json_w_kstr(&w, "why", why ? why : "");
	return end_event(&w);
}

int ctl_event_guest_panicked(char *out, size_t size, const char *vm,
			     const char *why)
{
	struct json_writer w;

	begin_event(&w, out, size, "guest_panicked", vm);
	json_w_kstr(&w, "why", why ? why : "");
	return end_event(&w);
}

int ctl_event_agent_lost(char *out, size_t size, const char *vm)
{
	struct json_writer w;

	begin_event(&w, out, size, "agent_lost", vm);
	return end_event(&w);
}

int ctl_event_agent_message(char *out, size_t size, const char *vm, u64 id,
			    const char *data, size_t len)
{
	struct json_writer w;

	begin_event(&w, out, size, "agent_message", vm);
	json_w_ku64(&w, "id", id);
	json_w_key(&w, "data");
	json_w_strn(&w, data, len);
	return end_event(&w);
}

int ctl_event_gdb(char *out, size_t size, const char *vm, const u8 *data,
		  size_t len)
{
	struct json_writer w;
	int n;

	if (len > CTL_GDB_OUT_MAX)
		return -1;
	begin_event(&w, out, size, "gdb", vm);
	json_w_key(&w, "data");
	json_w_bytes(&w, data, len);
	n = end_event(&w);
	/* a line a client reads: JSON_LINE_MAX bytes and its newline */
	return n > JSON_LINE_MAX + 1 ? -1 : n;
}

/* "disks":[{"name":..,"reads":..,...}] */
static void put_disk_stats(struct json_writer *w, const struct ctl_vm_stats *st)
{
	json_w_key(w, "disks");
	json_w_array(w);
	for (int i = 0; i < st->nr_disks && i < CFG_MAX_DISKS; i++) {
		const struct ctl_disk_stats *d = &st->disks[i];

		json_w_object(w);
		json_w_kstr(w, "name", d->name);
		json_w_ku64(w, "reads", d->reads);
		json_w_ku64(w, "writes", d->writes);
		json_w_ku64(w, "read_bytes", d->read_bytes);
		json_w_ku64(w, "write_bytes", d->write_bytes);
		json_w_ku64(w, "flushes", d->flushes);
		json_w_ku64(w, "errors", d->errors);
		json_w_object_end(w);
	}
	json_w_array_end(w);
}

/* "nics":[{"mac":"02:..","network":..,"tx_frames":..,...}] */
static void put_nic_stats(struct json_writer *w, const struct ctl_vm_stats *st)
{
	char mac[18];

	json_w_key(w, "nics");
	json_w_array(w);
	for (int i = 0; i < st->nr_nics && i < CFG_MAX_NICS; i++) {
		const struct ctl_nic_stats *n = &st->nics[i];

		fmt_sn(mac, sizeof(mac), "%02x:%02x:%02x:%02x:%02x:%02x",
		       n->mac[0], n->mac[1], n->mac[2], n->mac[3], n->mac[4],
		       n->mac[5]);
		json_w_object(w);
		json_w_kstr(w, "mac", mac);
		json_w_kstr(w, "network", n->network);
		json_w_ku64(w, "tx_frames", n->tx_frames);
		json_w_ku64(w, "tx_bytes", n->tx_bytes);
		json_w_ku64(w, "rx_frames", n->rx_frames);
		json_w_ku64(w, "rx_bytes", n->rx_bytes);
		json_w_ku64(w, "drops", n->drops);
		json_w_object_end(w);
	}
	json_w_array_end(w);
}

void ctl_put_device_stats(struct json_writer *w, const struct ctl_vm_stats *st)
{
	put_disk_stats(w, st);
	put_nic_stats(w, st);
}
