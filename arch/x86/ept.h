/*
 * EPT (Intel SDM Vol. 3C §29.3): guest-physical to host-physical tables.
 *
 * An EPT leaf entry (4 KiB page, or 2 MiB with bit 7 set in a PDE):
 *
 *  63  51         12 11:10 9  8  7   6   5:3   2 1 0
 *  +--+-------------+----+--+--+---+---+------+-+-+-+
 *  |  | host address|    |D |A |big|IPT|memtyp|X|W|R|
 *  +--+-------------+----+--+--+---+---+------+-+-+-+
 *
 * The EPT pointer (§25.6.11):
 *
 *  51         12 11:7  6    5:3        2:0
 *  +------------+----+---+----------+-------+
 *  | PML4 addr  | 0  |A/D|walk len-1|memtype|
 *  +------------+----+---+----------+-------+
 */
#ifndef UHV_ARCH_EPT_H
#define UHV_ARCH_EPT_H

#include "arch/x86/pgtable.h"

#define EPT_READ              (1ULL << 0)
#define EPT_WRITE             (1ULL << 1)
#define EPT_EXEC              (1ULL << 2)
#define EPT_RWX               (EPT_READ | EPT_WRITE | EPT_EXEC)
#define EPT_MEMTYPE_SHIFT     3
#define EPT_MEMTYPE_WB        6ULL
#define EPT_IGNORE_PAT        (1ULL << 6)

#define EPTP_MEMTYPE_WB       6ULL
#define EPTP_WALK_LENGTH_SHIFT 3
#define EPTP_WALK_LENGTH_4    (3ULL << EPTP_WALK_LENGTH_SHIFT)

/* Maps guest RAM [gpa, gpa+size) to host [hpa, ...) read/write/execute, WB. */
int ept_map_ram(struct pt_root *ept, u64 gpa, u64 hpa, u64 size);

/* The EPT pointer value for the VMCS: 4-level walk, write-back. */
u64 ept_pointer(const struct pt_root *ept);

#endif
