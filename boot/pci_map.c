/*
 * Mapping the PCI memory BARs above the identity map (boot/pci_map.h).
 * The firmware knows each BAR's place and size: EFI_PCI_IO_PROTOCOL's
 * GetBarAttributes (UEFI 2.10 §14.4) describes it with an ACPI QWORD
 * Address Space Descriptor (ACPI 6.5 §6.4.3.5.1), so nothing here
 * touches a device (sizing a BAR by writing ones would, while the
 * firmware's own drivers still use it).
 */
#include <efi.h>
#include <efilib.h>

#include "boot/pci_map.h"
#include "lib/string.h"

#define PCI_BARS            6
/* ACPI 6.5 §6.4.3.5.1, Table 6.44: byte offsets of the descriptor. */
#define ACPI_QWORD_TAG      0x8a
#define ACPI_DESC_TYPE      3       /* resource type: 0 is memory */
#define ACPI_TYPE_MEMORY    0
#define ACPI_QWORD_MIN      14      /* address range minimum */
#define ACPI_QWORD_LEN      38      /* address length */

static u64 get64(const u8 *p)
{
	u64 v;

	memcpy(&v, p, sizeof(v));
	return v;
}

/* Maps BAR bar of io where it reaches above top. */
static const char *map_bar(struct pt_root *root, EFI_PCI_IO_PROTOCOL *io,
			   u8 bar, u64 top, int *mapped)
{
	/* uncacheable, as device registers must be (pgtable.h) */
	static const struct pt_format mmio = {
		PTE_P | PTE_RW, PTE_P | PTE_RW | PTE_PCD | PTE_PWT,
	};
	const char *why = NULL;
	void *res = NULL;
	const u8 *d;
	u64 base, end;

	if (uefi_call_wrapper(io->GetBarAttributes, 4, io, bar, NULL, &res) !=
	    EFI_SUCCESS || !res)
		return NULL;                 /* no such BAR */
	d = res;
	base = get64(d + ACPI_QWORD_MIN);
	end = base + get64(d + ACPI_QWORD_LEN);
	if (d[0] == ACPI_QWORD_TAG && d[ACPI_DESC_TYPE] == ACPI_TYPE_MEMORY &&
	    end > top && end > base) {
		base = ALIGN_DOWN(MAX(base, top), PAGE_SIZE);
		end = ALIGN_UP(end, PAGE_SIZE);
		if (pt_map(root, base, base, end - base, &mmio))
			why = "no memory for page tables of PCI registers";
		*mapped += !why;
	}
	FreePool(res);
	return why;
}

const char *pci_map_bars(struct pt_root *root, u64 top, int *mapped)
{
	EFI_HANDLE *handles = NULL;
	UINTN n = 0;
	const char *why = NULL;

	*mapped = 0;
	if (uefi_call_wrapper(BS->LocateHandleBuffer, 5, ByProtocol,
			      &PciIoProtocol, NULL, &n, &handles) != EFI_SUCCESS)
		return NULL;                 /* a machine without PCI */
	for (UINTN i = 0; i < n && !why; i++) {
		EFI_PCI_IO_PROTOCOL *io;

		if (uefi_call_wrapper(BS->HandleProtocol, 3, handles[i],
				      &PciIoProtocol, (void **)&io) != EFI_SUCCESS)
			continue;
		for (u8 bar = 0; bar < PCI_BARS && !why; bar++)
			why = map_bar(root, io, bar, top, mapped);
	}
	FreePool(handles);
	return why;
}
