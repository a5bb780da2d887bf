/*
 * EPT on top of the shared page-table mapper: only the entry format is
 * EPT-specific. Guest RAM is write-back (memory type 6) and the guest's
 * PAT is ignored for it, as is usual for RAM (SDM Vol. 3C §29.3.7).
 */
#include "arch/x86/ept.h"

static const struct pt_format ept_ram = {
	.table_flags = EPT_RWX,
	.leaf_flags = EPT_RWX | (EPT_MEMTYPE_WB << EPT_MEMTYPE_SHIFT) |
		      EPT_IGNORE_PAT,
};

int ept_map_ram(struct pt_root *ept, u64 gpa, u64 hpa, u64 size)
{
	return pt_map(ept, gpa, hpa, size, &ept_ram);
}

u64 ept_pointer(const struct pt_root *ept)
{
	return ept->pml4_phys | EPTP_WALK_LENGTH_4 | EPTP_MEMTYPE_WB;
}
