/*
 * uhv's UEFI stage (a GNU-EFI application, BOOTX64.EFI).
 *
 * While boot services still exist it does everything that may fail in a
 * way the user should see before the machine is taken over:
 *   1. checks that the CPU can run uhv (VMX, EPT, unrestricted guest...);
 *   2. reads \uhv\uhv.cfg and every guest image it names from the ESP;
 *   3. reserves each VM's RAM and loads the embedded hypervisor core;
 *   4. builds uhv's page tables (identity map + the core at -2 GiB, and
 *      PCI registers the firmware placed above the map: pci_map.c).
 * Any failure prints "uhv: ..." and returns to the firmware. Then it takes
 * the final memory map, exits boot services and jumps to the core.
 */
#include <efi.h>
#include <efilib.h>

#include "vmm/bootinfo.h"
#include "lib/elf.h"
#include "arch/x86/cpu.h"
#include "arch/x86/pgtable.h"
#include "arch/x86/vmx_caps.h"
#include "arch/x86/host_acpi.h"
#include "arch/x86/mtrr.h"
#include "boot/pci_map.h"
#include "lib/tsc_rate.h"
#include "lib/fmt.h"
#include "lib/string.h"
#include "lib/date.h"

#define CFG_PATH L"\\uhv\\uhv.cfg"
#define CFG_NAME "\\uhv\\uhv.cfg"
#define UHV_RESERVE MiB(16)   /* kept free for uhv's own tables */

/* The core ELF, embedded by boot/core_blob.asm. */
extern const u8 core_elf_start[] __attribute__((visibility("hidden")));
extern const u8 core_elf_end[] __attribute__((visibility("hidden")));

static EFI_GUID mp_services_guid = {
	0x3fdda605, 0xa76e, 0x4f46, { 0xad, 0x29, 0x12, 0xf4, 0x53, 0x1b, 0x3d, 0x08 }
};
static EFI_GUID acpi20_guid = ACPI_20_TABLE_GUID;

/* Only the first member of EFI_MP_SERVICES_PROTOCOL (PI spec vol. 2). */
struct mp_services {
	EFI_STATUS(EFIAPI *get_number_of_processors)(struct mp_services *self,
						     UINTN *total, UINTN *enabled);
};

static void say(const char *fmt, ...)
{
	char buf[256];
	va_list ap;

	va_start(ap, fmt);
	fmt_vsn(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	Print(L"uhv: %a\n", buf);
}

/* Allocates whole pages of loader data; NULL on failure. */
static void *alloc_pages(u64 bytes)
{
	EFI_PHYSICAL_ADDRESS addr = 0;
	UINTN pages = ALIGN_UP(bytes, PAGE_SIZE) / PAGE_SIZE;

	if (uefi_call_wrapper(BS->AllocatePages, 4, AllocateAnyPages,
			      EfiLoaderData, pages, &addr) != EFI_SUCCESS)
		return NULL;
	return (void *)(uintptr_t)addr;
}

/* Allocates bytes at a 2 MiB-aligned address (over-allocating by 2 MiB). */
static void *alloc_aligned_2m(u64 bytes)
{
	u8 *p = alloc_pages(bytes + PT_SIZE_2M);

	return p ? (void *)ALIGN_UP((uintptr_t)p, PT_SIZE_2M) : NULL;
}

static void *pt_alloc(void *ctx, u64 *phys)
{
	void *p = alloc_pages(PAGE_SIZE);

	(void)ctx;
	if (p) {
		memset(p, 0, PAGE_SIZE);
		*phys = (u64)(uintptr_t)p;
	}
	return p;
}

static void *pt_phys_to_virt(void *ctx, u64 phys)
{
	(void)ctx;
	return (void *)(uintptr_t)phys;
}

static const struct page_ops loader_pt_ops = { pt_alloc, pt_phys_to_virt, NULL, NULL };

/* Reads \uhv\<name> (ASCII, '/' allowed) into fresh pages. */
static EFI_STATUS read_file(EFI_FILE_HANDLE root, const char *name,
			    bool in_uhv_dir, void **data, u64 *size)
{
	CHAR16 path[CFG_PATH_MAX + 8];
	EFI_FILE_HANDLE f;
	EFI_FILE_INFO *info;
	EFI_STATUS st;
	UINTN n = 0, len;

	if (in_uhv_dir)
		for (const char *p = "\\uhv\\"; *p; p++)
			path[n++] = (CHAR16)*p;
	for (; *name && n + 1 < ARRAY_SIZE(path); name++)
		path[n++] = *name == '/' ? L'\\' : (CHAR16)*name;
	path[n] = 0;
	st = uefi_call_wrapper(root->Open, 5, root, &f, path, EFI_FILE_MODE_READ, 0);
	if (EFI_ERROR(st))
		return st;
	info = LibFileInfo(f);
	if (!info) {
		uefi_call_wrapper(f->Close, 1, f);
		return EFI_DEVICE_ERROR;
	}
	len = info->FileSize;
	FreePool(info);
	*size = len;
	*data = alloc_pages(len ? len : 1);
	st = *data ? uefi_call_wrapper(f->Read, 3, f, &len, *data)
		   : EFI_OUT_OF_RESOURCES;
	uefi_call_wrapper(f->Close, 1, f);
	return st;
}


/*
 * Loads the embedded core ELF at a fresh 2 MiB-aligned physical address.
 * The core is ours, built with it, so a bad header means a broken build.
 */
static const char *load_core(struct boot_info *bi, u64 *entry)
{
	const struct elf64_ehdr *eh = (const void *)core_elf_start;
	const struct elf64_phdr *ph;
	u64 vmax = CORE_VIRT_BASE;
	u8 *base;

	if (*(const u32 *)eh->e_ident != ELF_MAGIC ||
	    eh->e_ident[EI_CLASS] != ELFCLASS64 || eh->e_machine != EM_X86_64)
		return "the embedded core is not an x86-64 ELF";
	ph = (const void *)(core_elf_start + eh->e_phoff);
	for (int i = 0; i < eh->e_phnum; i++)
		if (ph[i].p_type == PT_LOAD)
			vmax = MAX(vmax, ph[i].p_vaddr + ph[i].p_memsz);
	bi->core_size = ALIGN_UP(vmax - CORE_VIRT_BASE, PT_SIZE_2M);
	base = alloc_aligned_2m(bi->core_size);
	if (!base)
		return "no memory for the core";
	memset(base, 0, bi->core_size);
	for (int i = 0; i < eh->e_phnum; i++) {
		if (ph[i].p_type != PT_LOAD)
			continue;
		if (ph[i].p_vaddr < CORE_VIRT_BASE)
			return "a core segment lies below CORE_VIRT_BASE";
		memcpy(base + (ph[i].p_vaddr - CORE_VIRT_BASE),
		       core_elf_start + ph[i].p_offset, ph[i].p_filesz);
	}
	bi->core_phys = (u64)(uintptr_t)base;
	*entry = eh->e_entry;
	return NULL;
}

/* Memory the core may hand out: free RAM once boot services are gone. */
static bool usable_after_exit(UINT32 type)
{
	return type == EfiConventionalMemory || type == EfiBootServicesCode ||
	       type == EfiBootServicesData;
}

/* Highest physical address in the map, for the identity mapping. */
static u64 memory_top(const u8 *map, UINTN size, UINTN desc_size)
{
	u64 top = GiB(4);   /* always cover the MMIO hole below 4 GiB */

	for (UINTN off = 0; off < size; off += desc_size) {
		const EFI_MEMORY_DESCRIPTOR *d = (const void *)(map + off);

		top = MAX(top, d->PhysicalStart + d->NumberOfPages * PAGE_SIZE);
	}
	return ALIGN_UP(top, PT_SIZE_2M);
}

/* Sum of memory that is free now (for the "does it fit" check). */
static u64 memory_free(const u8 *map, UINTN size, UINTN desc_size)
{
	u64 sum = 0;

	for (UINTN off = 0; off < size; off += desc_size) {
		const EFI_MEMORY_DESCRIPTOR *d = (const void *)(map + off);

		if (d->Type == EfiConventionalMemory)
			sum += d->NumberOfPages * PAGE_SIZE;
	}
	return sum;
}

/* Copies the free regions above 1 MiB into bi, merging neighbours. */
static void record_free_memory(struct boot_info *bi, const u8 *map,
			       UINTN size, UINTN desc_size)
{
	bi->nr_regions = 0;
	for (UINTN off = 0; off < size; off += desc_size) {
		const EFI_MEMORY_DESCRIPTOR *d = (const void *)(map + off);
		u64 base = d->PhysicalStart;
		u64 end = base + d->NumberOfPages * PAGE_SIZE;
		struct boot_region *last = bi->nr_regions ?
			&bi->free[bi->nr_regions - 1] : NULL;

		if (!usable_after_exit(d->Type) || end <= MiB(1))
			continue;
		base = MAX(base, MiB(1));  /* keep low memory for later use */
		if (last && last->base + last->size == base)
			last->size += end - base;
		else if (bi->nr_regions < BOOTINFO_MAX_REGIONS)
			bi->free[bi->nr_regions++] = (struct boot_region){ base, end - base };
	}
}

struct memmap {
	u8 *buf;
	UINTN cap, size, key, desc_size;
	UINT32 desc_version;
};

/* Fetches the current memory map into m->buf (allocated with slack). */
static EFI_STATUS get_memory_map(struct memmap *m)
{
	EFI_STATUS st;

	for (;;) {
		m->size = m->cap;
		st = uefi_call_wrapper(BS->GetMemoryMap, 5, &m->size,
				       (EFI_MEMORY_DESCRIPTOR *)m->buf, &m->key,
				       &m->desc_size, &m->desc_version);
		if (st != EFI_BUFFER_TOO_SMALL)
			return st;
		m->cap = m->size + 16 * PAGE_SIZE;  /* room for our own allocation */
		m->buf = alloc_pages(m->cap);
		if (!m->buf)
			return EFI_OUT_OF_RESOURCES;
	}
}

/* Identity-maps [0, top) and maps the core at CORE_VIRT_BASE. */
static u64 loader_rdmsr(u32 msr)
{
	return rdmsr(msr);
}

/* pt_big_ok_fn: a 2 MiB page only where the MTRRs give one memory type. */
static bool one_memory_type(void *ctx, u64 pa)
{
	return mtrr_uniform_2m(ctx, pa);
}

/*
 * uhv's page tables: the identity map of the machine up to top, with
 * 4 KiB pages wherever a 2 MiB page would span two MTRR memory types
 * (SDM Vol. 3A §12.11.9: undefined), and the core at CORE_VIRT_BASE.
 */
static const char *build_page_tables(struct boot_info *bi, u64 top)
{
	static const struct pt_format host = { PTE_P | PTE_RW, PTE_P | PTE_RW };
	static struct mtrr_state mtrrs;
	struct pt_root root;

	mtrr_read(&mtrrs, loader_rdmsr);
	const char *why;
	int bars;

	if (pt_init(&root, &loader_pt_ops) ||
	    pt_map_where(&root, 0, 0, top, &host, one_memory_type, &mtrrs) ||
	    pt_map(&root, CORE_VIRT_BASE, bi->core_phys, bi->core_size, &host))
		return "no memory for page tables";
	if ((why = pci_map_bars(&root, top, &bars)))
		return why;
	if (bars)
		say("%d PCI register range(s) above the identity map (%llu MiB) "
		    "mapped uncached", bars, (unsigned long long)(top >> 20));
	bi->pml4_phys = root.pml4_phys;
	return NULL;
}

static u32 count_cpus(void)
{
	struct mp_services *mp;
	UINTN total = 1, enabled = 1;

	if (uefi_call_wrapper(BS->LocateProtocol, 3, &mp_services_guid, NULL,
			      (void **)&mp) != EFI_SUCCESS)
		return 1;
	if (uefi_call_wrapper(mp->get_number_of_processors, 3, mp, &total,
			      &enabled) != EFI_SUCCESS)
		return 1;
	return (u32)enabled;
}

static u64 find_rsdp(void)
{
	for (UINTN i = 0; i < ST->NumberOfTableEntries; i++)
		if (!CompareGuid(&ST->ConfigurationTable[i].VendorGuid, &acpi20_guid))
			return (u64)(uintptr_t)ST->ConfigurationTable[i].VendorTable;
	return 0;
}

/* Reads and checks the configuration; prints the problem on failure. */
static bool load_config(EFI_FILE_HANDLE root, struct boot_info *bi)
{
	struct cfg_error err;
	void *text;
	u64 size;
	EFI_STATUS st = read_file(root, CFG_NAME, false, &text, &size);

	if (EFI_ERROR(st)) {
		say("cannot read %s: %s", CFG_NAME,
		    st == EFI_NOT_FOUND ? "no such file" : "read error");
		return false;
	}
	if (config_parse(text, size, &bi->config, &err)) {
		say("%s:%d: %s", CFG_NAME, err.line, err.msg);
		return false;
	}
	return true;
}

/* Reads file (named in the config at line) from \uhv\; false on failure. */
static bool read_vm_file(EFI_FILE_HANDLE root, const struct vm_config *vm,
			 const char *file, int line, u64 *phys, u64 *size)
{
	void *data;
	EFI_STATUS st = read_file(root, file, true, &data, size);

	if (EFI_ERROR(st)) {
		say("%s:%d: VM '%s': cannot read '\\uhv\\%s': %s", CFG_NAME, line,
		    vm->name, file, st == EFI_NOT_FOUND ? "no such file" : "read error");
		return false;
	}
	*phys = (u64)(uintptr_t)data;
	return true;
}

/* Reads each VM's image and reserves its RAM. */
static bool load_vms(EFI_FILE_HANDLE root, struct boot_info *bi, u64 avail)
{
	struct uhv_config *c = &bi->config;
	struct cfg_error err;

	if (config_check_fit(c, avail > UHV_RESERVE ? avail - UHV_RESERVE : 0,
			     &err)) {
		say("%s:%d: %s", CFG_NAME, err.line, err.msg);
		return false;
	}
	for (int i = 0; i < c->nr_vms; i++) {
		struct vm_config *vm = &c->vms[i];
		struct boot_vm *b = &bi->vms[i];
		void *ram;

		if (!read_vm_file(root, vm, vm->image, vm->image_line,
				  &b->image_phys, &b->image_size) ||
		    (vm->initrd[0] &&
		     !read_vm_file(root, vm, vm->initrd, vm->initrd_line,
				   &b->initrd_phys, &b->initrd_size)))
			return false;
		for (int d = 0; d < vm->nr_disks; d++)
			if (strncmp(vm->disks[d].image, "host:", 5) &&  /* uhv's own disk */
			    !read_vm_file(root, vm, vm->disks[d].image,
					  vm->disks[d].line, &b->disk_phys[d],
					  &b->disk_size[d]))
				return false;
		ram = alloc_aligned_2m(vm->memory);
		if (!ram) {
			say("%s:%d: VM '%s': memory %lluM does not fit in one "
			    "piece", CFG_NAME, vm->line, vm->name,
			    (unsigned long long)(vm->memory >> 20));
			return false;
		}
		uefi_call_wrapper(BS->SetMem, 3, ram, vm->memory, 0);
		b->ram_phys = (u64)(uintptr_t)ram;
		say("VM '%s': image %s (%llu bytes), %lluM RAM at %p", vm->name,
		    vm->image, (unsigned long long)b->image_size,
		    (unsigned long long)(vm->memory >> 20), ram);
	}
	return true;
}

/* Appends name (ASCII) to dir + '/' in out; false if it does not fit or
   is not plain ASCII. */
static bool file_name(char *out, const char *dir, const CHAR16 *name)
{
	UINTN n = 0;

	for (; *dir && n + 1 < CFG_PATH_MAX; dir++)
		out[n++] = *dir;
	out[n++] = '/';
	for (; *name; name++) {
		if (*name < 0x21 || *name > 0x7e || n + 1 >= CFG_PATH_MAX)
			return false;
		out[n++] = (char)*name;
	}
	out[n] = 0;
	return true;
}

/*
 * Loads every file of \uhv\<images>\ (config key images), so the
 * management protocol's create can use them after boot services are gone.
 */
static bool load_images(EFI_FILE_HANDLE root, struct boot_info *bi)
{
	const char *dir = bi->config.images;
	EFI_FILE_HANDLE d;
	CHAR16 path[CFG_PATH_MAX + 8];
	UINT8 buf[sizeof(EFI_FILE_INFO) + 256 * sizeof(CHAR16)];
	UINTN n = 0;

	if (!dir[0])
		return true;
	for (const char *p = "\\uhv\\"; *p; p++)
		path[n++] = (CHAR16)*p;
	for (const char *p = dir; *p; p++)
		path[n++] = *p == '/' ? L'\\' : (CHAR16)*p;
	path[n] = 0;
	if (EFI_ERROR(uefi_call_wrapper(root->Open, 5, root, &d, path,
					EFI_FILE_MODE_READ, 0))) {
		say("%s: images: cannot open folder '\\uhv\\%s'", CFG_NAME, dir);
		return false;
	}
	for (;;) {
		EFI_FILE_INFO *fi = (EFI_FILE_INFO *)buf;
		UINTN len = sizeof(buf);
		struct boot_file *f = &bi->files[bi->nr_files];
		void *data;

		if (EFI_ERROR(uefi_call_wrapper(d->Read, 3, d, &len, buf)) || !len)
			break;
		if ((fi->Attribute & EFI_FILE_DIRECTORY) ||
		    !file_name(f->name, dir, fi->FileName))
			continue;
		if (bi->nr_files == BOOT_MAX_FILES) {
			say("images: more than %d files, the rest skipped",
			    BOOT_MAX_FILES);
			break;
		}
		if (EFI_ERROR(read_file(root, f->name, true, &data, &f->size))) {
			say("images: cannot read '%s'", f->name);
			continue;
		}
		f->phys = (u64)(uintptr_t)data;
		bi->nr_files++;
		say("image %s (%llu bytes) for create", f->name,
		    (unsigned long long)f->size);
	}
	uefi_call_wrapper(d->Close, 1, d);
	return true;
}

/* RAM for VMs created at run time (config key reserve). */
static bool reserve_ram(struct boot_info *bi)
{
	void *ram;

	if (!bi->config.reserve)
		return true;
	ram = alloc_aligned_2m(bi->config.reserve);
	if (!ram) {
		say("%s: reserve: %lluM does not fit in one piece", CFG_NAME,
		    (unsigned long long)(bi->config.reserve >> 20));
		return false;
	}
	uefi_call_wrapper(BS->SetMem, 3, ram, bi->config.reserve, 0);
	bi->reserve_phys = (u64)(uintptr_t)ram;
	bi->reserve_size = bi->config.reserve;
	return true;
}

#define TSC_MEASURE_US 50000    /* 50 ms of firmware Stall() */
#define TSC_FALLBACK_HZ 1000000000ULL

/*
 * The TSC rate, which guests are told (CPUID 0x15) so they need not
 * calibrate: TSC ticks across a 50 ms Stall(). Under Bochs the TSC counts
 * instructions and Stall() waits in emulated time, so this gives the
 * emulated rate (the bochsrc's ips).
 */
static u64 measure_tsc_hz(void)
{
	u64 t0 = rdtsc(), t1;

	if (uefi_call_wrapper(BS->Stall, 1, TSC_MEASURE_US) != EFI_SUCCESS)
		return TSC_FALLBACK_HZ;
	t1 = rdtsc();
	return (t1 - t0) * (1000000 / TSC_MEASURE_US);
}

#define PM_TIMER_HZ      3579545ULL     /* ACPI 6.5 §4.8.3.3 */
#define PM_MEASURE_TICKS (PM_TIMER_HZ / 20)   /* 50 ms */
#define PM_MASK_24       0xffffffU
#define PM_MASK_32       0xffffffffU
#define CPUID_LEAF_TSC   0x15U          /* TSC/crystal ratio (SDM Vol. 2A) */
#define CPUID_LEAF_FREQ  0x16U          /* base frequency in MHz */

/* Firmware tables are identity-mapped while boot services run. */
static const void *loader_map(u64 phys, u64 len)
{
	(void)len;
	return (const void *)(uintptr_t)phys;
}

/*
 * The TSC against the ACPI PM timer, whose 3.579545 MHz crystal does not
 * depend on the CPU's clocks: TSC ticks while it counts 50 ms. 0 where
 * the FADT names none, or it does not count within a second of TSC
 * (bound: the Stall measurement).
 */
static u64 measure_against_pm(u64 rsdp, u64 stall_hz)
{
	const void *fadt = rsdp ? host_acpi_find(rsdp, "FACP", loader_map) : NULL;
	u16 port;
	bool bits32;
	u32 mask, p0, d = 0;
	u64 t0, t1;

	if (!fadt || !host_fadt_pm_timer(fadt, &port, &bits32))
		return 0;
	mask = bits32 ? PM_MASK_32 : PM_MASK_24;
	p0 = inl(port) & mask;
	t0 = t1 = rdtsc();
	while (d < PM_MEASURE_TICKS && t1 - t0 < stall_hz) {
		d = ((inl(port) & mask) - p0) & mask;
		t1 = rdtsc();
	}
	return d < PM_MEASURE_TICKS ? 0 : tsc_from_reference(t1 - t0, d, PM_TIMER_HZ);
}

/* What CPUID states the TSC rate to be (0: nothing). */
static u64 stated_tsc_hz(void)
{
	struct cpuid_regs r;
	u32 l15[4] = { 0 }, l16[4] = { 0 }, max;

	cpuid(0, 0, &r);
	max = r.eax;
	if (max >= CPUID_LEAF_TSC) {
		cpuid(CPUID_LEAF_TSC, 0, &r);
		l15[0] = r.eax, l15[1] = r.ebx, l15[2] = r.ecx;
	}
	if (max >= CPUID_LEAF_FREQ) {
		cpuid(CPUID_LEAF_FREQ, 0, &r);
		l16[0] = r.eax;
	}
	return tsc_cpuid_hz(l15, l16);
}

/*
 * The TSC rate guests are told: what CPUID states, where a measurement
 * confirms it within TSC_AGREE_PPM; else the measurement, against the
 * ACPI PM timer where the firmware names one, else across a Stall()
 * (under Bochs, whose TSC counts instructions and whose OVMF publishes
 * no ACPI tables, only that is right). Says which, and why.
 */
static u64 choose_tsc_hz(u64 rsdp)
{
	u64 stall = measure_tsc_hz(), pm = measure_against_pm(rsdp, stall);
	u64 stated = stated_tsc_hz(), hz;
	bool used;

	hz = tsc_pick(stated, pm ? pm : stall, &used);
	say("TSC %llu kHz, %s: CPUID states %llu kHz, measured %llu kHz against %s",
	    (unsigned long long)(hz / 1000), used ? "as CPUID states" : "as measured",
	    (unsigned long long)(stated / 1000),
	    (unsigned long long)((pm ? pm : stall) / 1000),
	    pm ? "the ACPI PM timer" : "50 ms of firmware Stall()");
	return hz;
}

/* The firmware's wall clock as seconds since 1970 (0 if unreadable). */
static u64 wall_clock(void)
{
	EFI_TIME t;

	if (uefi_call_wrapper(RT->GetTime, 2, &t, NULL) != EFI_SUCCESS)
		return 0;
	return date_to_epoch(t.Year, t.Month, t.Day, t.Hour, t.Minute, t.Second);
}

/* The self-tests of uhv's own drivers, which need no VMX. */
static bool driver_selftest_config(const struct uhv_config *c)
{
	return c->selftest == SELFTEST_STORAGE ||
	       c->selftest == SELFTEST_STORAGE_VERIFY ||
	       c->selftest == SELFTEST_NET;
}

/*
 * The paging mode the firmware left: uhv builds 4-level page tables and
 * switches CR3 to them without leaving long mode, which 5-level paging
 * (CR4.LA57) forbids (SDM Vol. 3A §4.1.1: LA57 changes only with paging
 * off). Returns why uhv cannot start, or NULL.
 */
static const char *check_firmware_paging(void)
{
	if (read_cr4() & CR4_LA57)
		return "the firmware runs with 5-level paging (CR4.LA57); uhv's "
		       "page tables are 4-level: boot with 4-level paging";
	return NULL;
}

/*
 * What the core must not inherit: PCIDs (its CR3 loads assume PCID 0
 * flushes) and CET (its code keeps no shadow stack). Clearing either
 * is always allowed (SDM Vol. 3A §2.5).
 */
static void clear_firmware_cr4(void)
{
	u64 cr4 = read_cr4();

	if (cr4 & (CR4_PCIDE | CR4_CET))
		write_cr4(cr4 & ~(CR4_PCIDE | CR4_CET));
}

/* Everything that may fail, while the firmware can still report it. */
static const char *prepare(EFI_HANDLE image, struct boot_info *bi,
			   struct memmap *m, u64 *entry)
{
	EFI_LOADED_IMAGE *li;
	EFI_FILE_HANDLE root;
	struct vmx_caps caps;
	const char *why;

	if (uefi_call_wrapper(BS->HandleProtocol, 3, image,
			      &LoadedImageProtocol, (void **)&li) != EFI_SUCCESS ||
	    !(root = LibOpenRoot(li->DeviceHandle)))
		return "cannot open the boot volume";
	if ((why = check_firmware_paging()))
		return why;
	if (!load_config(root, bi))
		return "";
	/* the storage and network self-tests exercise uhv's own drivers
	   only: they run where VMX is missing too (QEMU TCG) */
	why = driver_selftest_config(&bi->config) ? NULL :
	      vmx_check_features(&caps, &cpu_probe_hw);
	if (why) {
		say("unsupported hardware: %s", why);
		return "";
	}
	if (get_memory_map(m) != EFI_SUCCESS)
		return "cannot read the memory map";
	if (!load_vms(root, bi, memory_free(m->buf, m->size, m->desc_size)) ||
	    !reserve_ram(bi) || !load_images(root, bi))
		return "";
	if ((why = load_core(bi, entry)) ||
	    (why = build_page_tables(bi, memory_top(m->buf, m->size,
						    m->desc_size))))
		return why;
	bi->nr_cpus = count_cpus();
	bi->acpi_rsdp = find_rsdp();
	bi->tsc_hz = choose_tsc_hz(bi->acpi_rsdp);
	bi->boot_epoch = wall_clock();
	bi->boot_tsc = rdtsc();
	bi->efi_runtime = (u64)(uintptr_t)RT;
	return NULL;
}

/* Leaves boot services; the map key changes if anything allocates. */
static EFI_STATUS exit_boot_services(EFI_HANDLE image, struct memmap *m)
{
	EFI_STATUS st;

	for (int tries = 0; tries < 4; tries++) {
		st = get_memory_map(m);
		if (st != EFI_SUCCESS)
			return st;
		st = uefi_call_wrapper(BS->ExitBootServices, 2, image, m->key);
		if (st == EFI_SUCCESS)
			return st;
	}
	return st;
}

EFI_STATUS efi_main(EFI_HANDLE image, EFI_SYSTEM_TABLE *systab)
{
	struct memmap m = { 0 };
	struct boot_info *bi;
	const char *why;
	u64 entry = 0;

	u64 tsc0 = rdtsc();

	InitializeLib(image, systab);
	say("loader starting");
	bi = alloc_pages(sizeof(*bi));
	why = bi ? (memset(bi, 0, sizeof(*bi)), prepare(image, bi, &m, &entry))
		 : "out of memory";
	if (why) {
		if (*why)
			say("%s", why);
		say("returning to firmware");
		return EFI_UNSUPPORTED;
	}
	bi->magic = BOOTINFO_MAGIC;
	bi->loader_tsc = tsc0;
	say("%d CPU(s), TSC %llu kHz, %d VM(s); exiting boot services",
	    bi->nr_cpus, (unsigned long long)(bi->tsc_hz / 1000), bi->config.nr_vms);
	if (exit_boot_services(image, &m) != EFI_SUCCESS) {
		say("ExitBootServices failed; returning to firmware");
		return EFI_ABORTED;
	}
	/* From here on: no firmware calls but runtime services. */
	record_free_memory(bi, m.buf, m.size, m.desc_size);
	clear_firmware_cr4();
	__asm__ volatile("cli\n\t"
			 "mov %0, %%cr3\n\t"
			 "jmp *%1"
			 :: "r"(bi->pml4_phys), "r"(entry), "D"(bi) : "memory");
	return EFI_ABORTED;   /* not reached */
}
