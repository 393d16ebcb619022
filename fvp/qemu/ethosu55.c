/*
 * ethosu55.c - an Arm Ethos-U55 NPU as a QEMU device, for byoc's Corstone-300 emulator
 * (machine mps3-an547: 0x48102000, secure alias 0x58102000, interrupt 56).
 *
 * Copyright (c) the byoc authors. SPDX-License-Identifier: Apache-2.0 OR GPL-2.0-or-later
 *
 * The register interface is the one Arm's Ethos-U core driver programs (ID, STATUS, CMD,
 * RESET, QBASE/QSIZE/QREAD, PROT, CONFIG, REGIONCFG, AXI limits, BASEP0-7, PMU), written from
 * the published register definitions. Writing CMD.transition_to_running_state executes the
 * command stream at QBASE with byoc's functional Ethos-U55 model (kernels_c/ethosu, compiled
 * into this device: the same code that defines the NPU semantics everywhere in byoc), then
 * raises the interrupt with STATUS.cmd_end_reached, or with an error bit set. Execution is
 * instantaneous in emulated time, so the CPU's instruction count of a firmware excludes the
 * NPU's work; the NPU's time is reported by the PMU cycle counter (PMCCNTR), which advances by
 * the model's cycle estimate of each stream while PMCR.cnt_en and PMCNTENSET.CYCLE_CNT are set.
 *
 * Errors (the driver sees them in STATUS and fails the inference; the device never hangs):
 *   malformed command, unsupported configuration, watchdog  -> STATUS.cmd_parse_error
 *   region access outside mapped RAM, unmappable QBASE      -> STATUS.bus_status
 *   malformed weight stream                                 -> STATUS.wd_fault
 * each with one "byoc-ethos-u55: ..." line on stderr. The watchdog is a work limit (property
 * work-limit, in MACs/elements/bytes) on one stream. A region is the RAM from BASEPn to the end
 * of the contiguous RAM it lies in (at most region-window bytes): the hardware has no region
 * sizes, so accesses are checked against the memory that exists.
 *
 * Properties: macs (32/64/128/256, default 256), work-limit, region-window, memory (link: the
 * address space the NPU masters, set by the machine).
 */
#include "qemu/osdep.h"
#include "qemu/error-report.h"
#include "qemu/log.h"
#include "qemu/module.h"
#include "qemu/rcu.h"
#include "qemu/units.h"
#include "qapi/error.h"
#include "hw/sysbus.h"
#include "hw/irq.h"
#include "hw/qdev-properties.h"
#include "exec/memory.h"
#include "exec/address-spaces.h"

#include "ethosu_model_core.h"

#define TYPE_BYOC_ETHOSU55 "byoc-ethos-u55"
OBJECT_DECLARE_SIMPLE_TYPE(ByocEthosU55State, BYOC_ETHOSU55)

/* Register offsets (Ethos-U55 register map). */
enum {
    R_ID = 0x000,
    R_STATUS = 0x004,
    R_CMD = 0x008,
    R_RESET = 0x00C,
    R_QBASE = 0x010,
    R_QBASE_HI = 0x014,
    R_QREAD = 0x018,
    R_QCONFIG = 0x01C,
    R_QSIZE = 0x020,
    R_PROT = 0x024,
    R_CONFIG = 0x028,
    R_LOCK = 0x02C,
    R_REGIONCFG = 0x03C,
    R_AXI_LIMIT0 = 0x040,
    R_AXI_LIMIT3 = 0x04C,
    R_BASEP0 = 0x080,
    R_BASEP_END = 0x0C0,
    R_PMCR = 0x180,
    R_PMCNTENSET = 0x184,
    R_PMCNTENCLR = 0x188,
    R_PMOVSSET = 0x18C,
    R_PMOVSCLR = 0x190,
    R_PMINTSET = 0x194,
    R_PMINTCLR = 0x198,
    R_PMCCNTR_LO = 0x1A0,
    R_PMCCNTR_HI = 0x1A4,
    R_PMCCNTR_CFG = 0x1A8,
    R_PMCAXI_CHAN = 0x1AC,
    R_PMEVCNTR0 = 0x300,
    R_PMEVCNTR_END = 0x310,
    R_PMEVTYPER0 = 0x380,
    R_PMEVTYPER_END = 0x390,
};

/* STATUS bits */
#define STATUS_STATE_RUNNING (1u << 0)
#define STATUS_IRQ_RAISED (1u << 1)
#define STATUS_BUS_STATUS (1u << 2)
#define STATUS_CMD_PARSE_ERROR (1u << 4)
#define STATUS_CMD_END_REACHED (1u << 5)
#define STATUS_WD_FAULT (1u << 7)
#define STATUS_FAULTING_CHANNEL_SHIFT 12
#define STATUS_IRQ_HISTORY_SHIFT 16
#define STATUS_FAULTS (STATUS_BUS_STATUS | STATUS_CMD_PARSE_ERROR | STATUS_WD_FAULT)
/* CMD bits */
#define CMD_START (1u << 0)
#define CMD_CLEAR_IRQ (1u << 1)
#define CMD_CLOCK_POWER_Q (3u << 2)
#define CMD_CLEAR_IRQ_HISTORY_SHIFT 16
/* PMCR bits */
#define PMCR_CNT_EN (1u << 0)
#define PMCR_EVENT_CNT_RST (1u << 1)
#define PMCR_CYCLE_CNT_RST (1u << 2)
#define PMCR_MASK_EN (1u << 3)
#define PMCR_NUM_EVENT_CNT (4u << 11)
#define PMCNT_CYCLE (1u << 31)
#define PMCNT_EVENTS 0xFu
#define PMCCNTR_MASK ((1ull << 48) - 1)

/* ID: architecture 1.1.0 (newer than the 1.0.x Vela 5.2 compiles for: the driver accepts an
 * equal major and a larger or equal minor revision), product major 4, release r2p0. */
#define ETHOSU55_ID 0x10104201u

#define NUM_BASEP 8

struct ByocEthosU55State {
    SysBusDevice parent_obj;
    MemoryRegion iomem;
    qemu_irq irq;
    MemoryRegion *dma_mr;
    AddressSpace dma_as;

    /* properties */
    uint32_t macs;
    uint64_t work_limit;
    uint64_t region_window;

    /* registers */
    uint32_t status;
    uint32_t cmd;  /* clock/power q-enable bits as written */
    uint32_t prot; /* active CPL (bit 0) / CSL (bit 1, 1 = non-secure) */
    uint64_t qbase;
    uint32_t qsize;
    uint32_t qread;
    uint32_t qconfig;
    uint32_t lock;
    uint32_t regioncfg;
    uint32_t axi_limit[4];
    uint64_t basep[NUM_BASEP];
    uint32_t pmcr;
    uint32_t pmcnten;
    uint32_t pmovs;
    uint32_t pmint;
    uint64_t pmccntr;
    uint32_t pmccntr_cfg;
    uint32_t pmcaxi_chan;
    uint32_t pmevcntr[4];
    uint32_t pmevtyper[4];

    /* the NPU's internal memory (SHRAM: LUTs, accumulators) as the functional model keeps it */
    struct ethosu_driver *shram;
};

static void ethosu55_update_irq(ByocEthosU55State *s)
{
    qemu_set_irq(s->irq, (s->status & STATUS_IRQ_RAISED) != 0);
}

static void ethosu55_reset_registers(ByocEthosU55State *s)
{
    s->status = 0;
    s->cmd = 0;
    s->qbase = 0;
    s->qsize = 0;
    s->qread = 0;
    s->qconfig = 0;
    s->lock = 0;
    s->regioncfg = 0;
    memset(s->axi_limit, 0, sizeof(s->axi_limit));
    memset(s->basep, 0, sizeof(s->basep));
    s->pmcr = PMCR_NUM_EVENT_CNT;
    s->pmcnten = 0;
    s->pmovs = 0;
    s->pmint = 0;
    s->pmccntr = 0;
    s->pmccntr_cfg = 0;
    s->pmcaxi_chan = 0;
    memset(s->pmevcntr, 0, sizeof(s->pmevcntr));
    memset(s->pmevtyper, 0, sizeof(s->pmevtyper));
}

static MemTxAttrs ethosu55_attrs(const ByocEthosU55State *s)
{
    MemTxAttrs attrs = {};
    attrs.secure = (s->prot & 2u) == 0u;
    return attrs;
}

/*
 * Host pointer to the RAM at guest address addr, for at most `want` bytes: *len is the length
 * that is contiguous in host memory (it stops at the end of the RAM, or where memory behind
 * an MPC stops being one block). NULL when addr is not RAM.
 */
static uint8_t *ethosu55_map(ByocEthosU55State *s, uint64_t addr, uint64_t want, uint64_t *len)
{
    uint8_t *start = NULL;
    MemoryRegion *start_mr = NULL;
    uint64_t done = 0;
    *len = 0;
    RCU_READ_LOCK_GUARD();
    while (done < want) {
        hwaddr xlat;
        hwaddr plen = want - done;
        MemoryRegion *mr = address_space_translate(&s->dma_as, addr + done, &xlat, &plen, false,
                                                   ethosu55_attrs(s));
        if (!memory_region_is_ram(mr) || plen == 0) {
            break;
        }
        uint8_t *host = (uint8_t *)memory_region_get_ram_ptr(mr) + xlat;
        if (start == NULL) {
            start = host;
            start_mr = mr;
        } else if (mr != start_mr || host != start + done) {
            break;
        }
        done += plen;
    }
    *len = done;
    return start;
}

static void ethosu55_finish(ByocEthosU55State *s, uint32_t fault_bits, uint32_t channel)
{
    s->status &= ~STATUS_STATE_RUNNING;
    s->status |= fault_bits | STATUS_IRQ_RAISED | (1u << STATUS_IRQ_HISTORY_SHIFT);
    if (fault_bits != 0) {
        s->status = (s->status & ~(0xFu << STATUS_FAULTING_CHANNEL_SHIFT)) |
                    ((channel & 0xFu) << STATUS_FAULTING_CHANNEL_SHIFT);
    } else {
        s->status |= STATUS_CMD_END_REACHED;
    }
    ethosu55_update_irq(s);
}

static uint32_t ethosu55_fault_bits(int error)
{
    switch (error) {
    case ETHOSU_MODEL_E_REGION:
        return STATUS_BUS_STATUS;
    case ETHOSU_MODEL_E_WEIGHTS:
        return STATUS_WD_FAULT;
    default:
        return STATUS_CMD_PARSE_ERROR;
    }
}

/* CMD.transition_to_running_state: run the whole command stream, then interrupt. */
static void ethosu55_run(ByocEthosU55State *s)
{
    uint8_t *region_ptr[NUM_BASEP];
    size_t region_size[NUM_BASEP];
    struct ethosu_model_core_result result;
    uint64_t qlen = 0;

    if (s->status & STATUS_FAULTS) {
        /* a faulted NPU only runs again after a reset */
        ethosu55_finish(s, s->status & STATUS_FAULTS, 0);
        return;
    }
    s->status |= STATUS_STATE_RUNNING;
    s->status &= ~STATUS_CMD_END_REACHED;
    s->qread = 0;
    const uint8_t *cmds = ethosu55_map(s, s->qbase, s->qsize, &qlen);
    if (cmds == NULL || qlen < s->qsize || (s->qbase & 3u) != 0 || (s->qsize & 3u) != 0) {
        error_report("byoc-ethos-u55: command stream QBASE=0x%" PRIx64 " QSIZE=%" PRIu32
                     " is not word-aligned RAM", s->qbase, s->qsize);
        ethosu55_finish(s, STATUS_BUS_STATUS, 0);
        return;
    }
    for (int i = 0; i < NUM_BASEP; i++) {
        uint64_t len = 0;
        region_ptr[i] = ethosu55_map(s, s->basep[i], s->region_window, &len);
        region_size[i] = (size_t)len;
    }
    int rc = ethosu_model_core_run(s->shram, s->macs, (const uint32_t *)cmds, s->qsize / 4u, region_ptr,
                                   region_size, NUM_BASEP, s->work_limit, &result);
    if ((s->pmcr & PMCR_CNT_EN) && (s->pmcnten & PMCNT_CYCLE)) {
        uint64_t next = s->pmccntr + result.cycles;
        if (next > PMCCNTR_MASK) {
            s->pmovs |= PMCNT_CYCLE;
        }
        s->pmccntr = next & PMCCNTR_MASK;
    }
    if (rc < 0) {
        s->qread = result.error_offset;
        error_report("byoc-ethos-u55: command stream error at byte %" PRIu32 " (QBASE=0x%" PRIx64
                     "): %s (%s)", result.error_offset, s->qbase, result.message,
                     ethosu_model_error_name(result.error));
        ethosu55_finish(s, ethosu55_fault_bits(result.error), result.error == ETHOSU_MODEL_E_REGION ? 1 : 0);
        return;
    }
    s->qread = s->qsize;
    ethosu55_finish(s, 0, 0);
}

static uint64_t ethosu55_read(void *opaque, hwaddr offset, unsigned size)
{
    ByocEthosU55State *s = opaque;

    if (offset >= R_BASEP0 && offset < R_BASEP_END) {
        const uint64_t v = s->basep[(offset - R_BASEP0) / 8];
        return (offset & 4) ? (uint32_t)(v >> 32) : (uint32_t)v;
    }
    if (offset >= R_PMEVCNTR0 && offset < R_PMEVCNTR_END) {
        return s->pmevcntr[(offset - R_PMEVCNTR0) / 4];
    }
    if (offset >= R_PMEVTYPER0 && offset < R_PMEVTYPER_END) {
        return s->pmevtyper[(offset - R_PMEVTYPER0) / 4];
    }
    switch (offset) {
    case R_ID:
        return ETHOSU55_ID;
    case R_STATUS:
        return s->status;
    case R_CMD:
        return s->cmd;
    case R_RESET:
        return 0;
    case R_QBASE:
        return (uint32_t)s->qbase;
    case R_QBASE_HI:
        return (uint32_t)(s->qbase >> 32);
    case R_QREAD:
        return s->qread;
    case R_QCONFIG:
        return s->qconfig;
    case R_QSIZE:
        return s->qsize;
    case R_PROT:
        return s->prot;
    case R_CONFIG:
        return ethosu_model_core_config(s->macs);
    case R_LOCK:
        return s->lock;
    case R_REGIONCFG:
        return s->regioncfg;
    case R_AXI_LIMIT0 ... R_AXI_LIMIT3:
        return s->axi_limit[(offset - R_AXI_LIMIT0) / 4];
    case R_PMCR:
        return s->pmcr;
    case R_PMCNTENSET:
    case R_PMCNTENCLR:
        return s->pmcnten;
    case R_PMOVSSET:
    case R_PMOVSCLR:
        return s->pmovs;
    case R_PMINTSET:
    case R_PMINTCLR:
        return s->pmint;
    case R_PMCCNTR_LO:
        return (uint32_t)s->pmccntr;
    case R_PMCCNTR_HI:
        return (uint32_t)(s->pmccntr >> 32);
    case R_PMCCNTR_CFG:
        return s->pmccntr_cfg;
    case R_PMCAXI_CHAN:
        return s->pmcaxi_chan;
    default:
        /* status/debug registers the driver does not rely on read as zero */
        return 0;
    }
}

static void ethosu55_write_cmd(ByocEthosU55State *s, uint32_t value)
{
    s->cmd = value & CMD_CLOCK_POWER_Q;
    if (value & CMD_CLEAR_IRQ) {
        s->status &= ~STATUS_IRQ_RAISED;
    }
    s->status &= ~((value >> CMD_CLEAR_IRQ_HISTORY_SHIFT) << STATUS_IRQ_HISTORY_SHIFT);
    ethosu55_update_irq(s);
    if ((value & CMD_START) && !(s->status & STATUS_STATE_RUNNING)) {
        ethosu55_run(s);
    }
}

static void ethosu55_write_pmcr(ByocEthosU55State *s, uint32_t value)
{
    if (value & PMCR_EVENT_CNT_RST) {
        memset(s->pmevcntr, 0, sizeof(s->pmevcntr));
    }
    if (value & PMCR_CYCLE_CNT_RST) {
        s->pmccntr = 0;
    }
    s->pmcr = (value & (PMCR_CNT_EN | PMCR_MASK_EN)) | PMCR_NUM_EVENT_CNT;
}

static void ethosu55_write(void *opaque, hwaddr offset, uint64_t value64, unsigned size)
{
    ByocEthosU55State *s = opaque;
    const uint32_t value = (uint32_t)value64;

    if (offset >= R_BASEP0 && offset < R_BASEP_END) {
        uint64_t *p = &s->basep[(offset - R_BASEP0) / 8];
        *p = (offset & 4) ? deposit64(*p, 32, 32, value) : deposit64(*p, 0, 32, value);
        return;
    }
    if (offset >= R_PMEVCNTR0 && offset < R_PMEVCNTR_END) {
        s->pmevcntr[(offset - R_PMEVCNTR0) / 4] = value;
        return;
    }
    if (offset >= R_PMEVTYPER0 && offset < R_PMEVTYPER_END) {
        s->pmevtyper[(offset - R_PMEVTYPER0) / 4] = value & 0x3FFu;
        return;
    }
    switch (offset) {
    case R_CMD:
        ethosu55_write_cmd(s, value);
        break;
    case R_RESET:
        /* soft reset: completes at once (STATUS.reset_status stays 0), takes the pending
         * privilege (bit 0) and security (bit 1) levels */
        ethosu55_reset_registers(s);
        s->prot = value & 3u;
        ethosu55_update_irq(s);
        break;
    case R_QBASE:
        s->qbase = deposit64(s->qbase, 0, 32, value);
        s->status &= ~STATUS_CMD_END_REACHED;
        break;
    case R_QBASE_HI:
        s->qbase = deposit64(s->qbase, 32, 32, value);
        break;
    case R_QSIZE:
        s->qsize = value;
        s->status &= ~STATUS_CMD_END_REACHED;
        break;
    case R_QCONFIG:
        s->qconfig = value;
        break;
    case R_LOCK:
        s->lock = value;
        break;
    case R_REGIONCFG:
        s->regioncfg = value;
        break;
    case R_AXI_LIMIT0 ... R_AXI_LIMIT3:
        s->axi_limit[(offset - R_AXI_LIMIT0) / 4] = value;
        break;
    case R_PMCR:
        ethosu55_write_pmcr(s, value);
        break;
    case R_PMCNTENSET:
        s->pmcnten |= value & (PMCNT_CYCLE | PMCNT_EVENTS);
        break;
    case R_PMCNTENCLR:
        s->pmcnten &= ~value;
        break;
    case R_PMOVSSET:
        s->pmovs |= value & (PMCNT_CYCLE | PMCNT_EVENTS);
        break;
    case R_PMOVSCLR:
        s->pmovs &= ~value;
        break;
    case R_PMINTSET:
        s->pmint |= value & (PMCNT_CYCLE | PMCNT_EVENTS);
        break;
    case R_PMINTCLR:
        s->pmint &= ~value;
        break;
    case R_PMCCNTR_LO:
        s->pmccntr = deposit64(s->pmccntr, 0, 32, value);
        break;
    case R_PMCCNTR_HI:
        s->pmccntr = deposit64(s->pmccntr, 32, 16, value);
        break;
    case R_PMCCNTR_CFG:
        s->pmccntr_cfg = value;
        break;
    case R_PMCAXI_CHAN:
        s->pmcaxi_chan = value;
        break;
    default:
        qemu_log_mask(LOG_GUEST_ERROR, "byoc-ethos-u55: write to read-only or unknown register 0x%03"
                      HWADDR_PRIx "\n", offset);
        break;
    }
}

static const MemoryRegionOps ethosu55_ops = {
    .read = ethosu55_read,
    .write = ethosu55_write,
    .endianness = DEVICE_LITTLE_ENDIAN,
    .valid.min_access_size = 4,
    .valid.max_access_size = 4,
    .impl.min_access_size = 4,
    .impl.max_access_size = 4,
};

static void ethosu55_reset(DeviceState *dev)
{
    ByocEthosU55State *s = BYOC_ETHOSU55(dev);
    ethosu55_reset_registers(s);
    s->prot = 0;
    ethosu55_update_irq(s);
}

static void ethosu55_init(Object *obj)
{
    ByocEthosU55State *s = BYOC_ETHOSU55(obj);
    memory_region_init_io(&s->iomem, obj, &ethosu55_ops, s, TYPE_BYOC_ETHOSU55, 0x1000);
    sysbus_init_mmio(SYS_BUS_DEVICE(obj), &s->iomem);
    sysbus_init_irq(SYS_BUS_DEVICE(obj), &s->irq);
}

static void ethosu55_realize(DeviceState *dev, Error **errp)
{
    ByocEthosU55State *s = BYOC_ETHOSU55(dev);
    if (ethosu_model_core_config(s->macs) == 0) {
        error_setg(errp, "byoc-ethos-u55: macs must be 32, 64, 128 or 256 (got %" PRIu32 ")", s->macs);
        return;
    }
    address_space_init(&s->dma_as, s->dma_mr ? s->dma_mr : get_system_memory(), "byoc-ethos-u55");
    s->shram = g_new0(struct ethosu_driver, 1);
}

static Property ethosu55_properties[] = {
    DEFINE_PROP_UINT32("macs", ByocEthosU55State, macs, 256),
    DEFINE_PROP_UINT64("work-limit", ByocEthosU55State, work_limit, 1ull << 34),
    DEFINE_PROP_UINT64("region-window", ByocEthosU55State, region_window, 256 * MiB),
    DEFINE_PROP_LINK("memory", ByocEthosU55State, dma_mr, TYPE_MEMORY_REGION, MemoryRegion *),
    DEFINE_PROP_END_OF_LIST(),
};

static void ethosu55_class_init(ObjectClass *klass, void *data)
{
    DeviceClass *dc = DEVICE_CLASS(klass);
    dc->desc = "Arm Ethos-U55 NPU (byoc functional model)";
    dc->realize = ethosu55_realize;
    dc->reset = ethosu55_reset;
    device_class_set_props(dc, ethosu55_properties);
}

static const TypeInfo ethosu55_info = {
    .name = TYPE_BYOC_ETHOSU55,
    .parent = TYPE_SYS_BUS_DEVICE,
    .instance_size = sizeof(ByocEthosU55State),
    .instance_init = ethosu55_init,
    .class_init = ethosu55_class_init,
};

static void ethosu55_register_types(void)
{
    type_register_static(&ethosu55_info);
}

type_init(ethosu55_register_types)
