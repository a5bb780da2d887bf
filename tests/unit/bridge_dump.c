/*
 * bridge_dump (bridge_dump.h): every network's counters, its ports'
 * counters and the stations each port has, one line a call of the print
 * sink. Only the unit tests and the bridge's fuzzer use it, so it lives
 * here and is not linked into uhv; vm_nics.c prints its own summary.
 */
#include "tests/unit/bridge_dump.h"
#include "lib/fmt.h"
#include "lib/string.h"

#define OCTET_BITS      8
#define OCTET_MASK      0xffULL
#define DUMP_LINE       160

/* Octet i of a MAC, 0 first (as written: 52:54:00:...). */
static unsigned mac_octet(u64 mac, int i)
{
	return (unsigned)(mac >> OCTET_BITS * (ETH_ALEN - 1 - i) & OCTET_MASK);
}

static unsigned long long ull(u64 v)
{
	return v;
}

/* "drops runt 2, spoofed 1": the causes that happened, or "drops none". */
static void format_drops(char *buf, size_t size, const u64 *drops)
{
	size_t len = (size_t)fmt_sn(buf, size, "drops");
	const char *sep = " ";

	for (int d = 0; d < BRIDGE_DROP_MAX && len < size; d++)
		if (drops[d]) {
			len += (size_t)fmt_sn(buf + len, size - len,
					      "%s%s %llu", sep, bridge_drop_name(d),
					      ull(drops[d]));
			sep = ", ";
		}
	if (*sep == ' ' && len < size)
		fmt_sn(buf + len, size - len, " none");
}

/* The stations a port has, "52:54:00:12:34:56 age 12 s" or "... static". */
static void dump_stations(const struct bridge *b, const struct bridge_net *n,
			  u8 slot, bridge_print_fn *print, void *ctx, u64 now)
{
	for (u16 i = 0; i < BRIDGE_FDB_SIZE; i++) {
		const struct bridge_fdb_entry *e = &n->fdb[i];
		u64 m = e->mac, age = now > e->seen ? now - e->seen : 0;
		char what[DUMP_LINE] = "static";

		if (!e->used || e->port != slot)
			continue;
		if (!e->is_static)
			fmt_sn(what, sizeof(what), "age %llu s",
			       ull(age / b->hz));
		print(ctx, "    %02x:%02x:%02x:%02x:%02x:%02x %s\n",
		      mac_octet(m, 0), mac_octet(m, 1), mac_octet(m, 2),
		      mac_octet(m, 3), mac_octet(m, 4), mac_octet(m, 5), what);
	}
}

static void dump_port(const struct bridge *b, const struct bridge_net *n,
		      u8 slot, bridge_print_fn *print, void *ctx, u64 now)
{
	const struct bridge_port_stats *s = &n->ports[slot].stats;
	const char *name = n->ports[slot].name;
	char drops[DUMP_LINE], extra[DUMP_LINE] = "";

	format_drops(drops, sizeof(drops), s->drops);
	if (s->rx_filtered || s->csum_completed)      /* only if any */
		fmt_sn(extra, sizeof(extra), ", %llu filtered, %llu checksums "
		       "finished", ull(s->rx_filtered), ull(s->csum_completed));
	print(ctx, "  port %u %s: tx %llu frames %llu bytes, "
	      "rx %llu frames %llu bytes%s, %s\n", slot, name[0] ? name : "-",
	      ull(s->tx_frames), ull(s->tx_bytes), ull(s->rx_frames),
	      ull(s->rx_bytes), extra, drops);
	dump_stations(b, n, slot, print, ctx, now);
}

static void dump_net(const struct bridge *b, const struct bridge_net *n,
		     bridge_print_fn *print, void *ctx, u64 now)
{
	const struct bridge_net_stats *s = &n->stats;
	char drops[DUMP_LINE];

	format_drops(drops, sizeof(drops), s->drops);
	print(ctx, "net %s: %u stations (of %u), %llu frames %llu bytes, "
	      "%llu forwarded, %llu flooded, %llu filtered, %llu reserved\n",
	      n->name, (unsigned)n->fdb_used, (unsigned)BRIDGE_FDB_SIZE,
	      ull(s->frames), ull(s->bytes), ull(s->forwarded),
	      ull(s->flooded), ull(s->filtered), ull(s->reserved));
	print(ctx, "net %s: learned %llu, moved %llu, aged %llu, "
	      "evicted %llu, %s\n", n->name, ull(s->learned), ull(s->moved),
	      ull(s->aged), ull(s->evicted), drops);
	for (u8 i = 0; i < BRIDGE_MAX_PORTS; i++)
		if (n->ports[i].used)
			dump_port(b, n, i, print, ctx, now);
}

void bridge_dump(const struct bridge *b, bridge_print_fn *print, void *ctx,
		 u64 now)
{
	for (int i = 0; i < BRIDGE_MAX_NETS; i++)
		if (b->nets[i].used)
			dump_net(b, &b->nets[i], print, ctx, now);
}
