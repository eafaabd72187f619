//! ELF executables, as far as bots look at them.
//!
//! * [`binary`]: the bytes of a stripped static BusyBox for a CPU. Mirai's loader (and its
//!   many forks) runs `cat /bin/echo` or `cat /bin/busybox` and reads `e_ident[EI_DATA]`
//!   and `e_machine` to pick which build to drop; `file` and `readelf -h` should agree
//!   too. Everything past the headers is filler, fixed per CPU, so the same command
//!   prints the same bytes on every connection.
//! * [`inspect`]: what a captured artifact is built for, without trusting any of it.

/// The CPUs a device can run, as Mirai-family bots are built for them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Arch {
    /// 32-bit ARM before v7 (ARMv5/v6), little-endian: Mirai's `arm`.
    Arm,
    /// 32-bit ARMv7, little-endian: Mirai's `arm7`. Same `e_machine` as [`Arch::Arm`].
    Armv7,
    /// 64-bit ARM, little-endian.
    Aarch64,
    /// 32-bit MIPS, big-endian.
    Mips,
    /// 32-bit MIPS, little-endian: Mirai's `mpsl`.
    Mipsel,
    /// 64-bit MIPS, big-endian.
    Mips64,
    /// 32-bit PowerPC, big-endian.
    PowerPc,
    /// SuperH SH-4, little-endian.
    Sh4,
    /// 32-bit SPARC, big-endian.
    Sparc,
    /// 32-bit x86.
    X86,
    /// 64-bit x86.
    X86_64,
    /// Motorola 68000 family, big-endian.
    M68k,
}

/// ELF `e_machine` values used here.
mod em {
    pub const SPARC: u16 = 2;
    pub const I386: u16 = 3;
    pub const M68K: u16 = 4;
    pub const MIPS: u16 = 8;
    pub const PPC: u16 = 20;
    pub const ARM: u16 = 40;
    pub const SH: u16 = 42;
    pub const X86_64: u16 = 62;
    pub const AARCH64: u16 = 183;
}

impl Arch {
    /// Every architecture, in the order names are listed in messages.
    pub const ALL: &'static [Arch] = &[
        Arch::Arm,
        Arch::Armv7,
        Arch::Aarch64,
        Arch::Mips,
        Arch::Mipsel,
        Arch::Mips64,
        Arch::PowerPc,
        Arch::Sh4,
        Arch::Sparc,
        Arch::X86,
        Arch::X86_64,
        Arch::M68k,
    ];

    /// Whether a binary built for `self` runs on a `cpu`: the same architecture, or older
    /// 32-bit ARM on an ARMv7.
    pub fn runs_on(self, cpu: Arch) -> bool {
        self == cpu || (self == Arch::Arm && cpu == Arch::Armv7)
    }

    /// Its name in a profile: "arm", "armv7", "mipsel", …
    pub fn name(self) -> &'static str {
        match self {
            Arch::Arm => "arm",
            Arch::Armv7 => "armv7",
            Arch::Aarch64 => "aarch64",
            Arch::Mips => "mips",
            Arch::Mipsel => "mipsel",
            Arch::Mips64 => "mips64",
            Arch::PowerPc => "powerpc",
            Arch::Sh4 => "sh4",
            Arch::Sparc => "sparc",
            Arch::X86 => "x86",
            Arch::X86_64 => "x86_64",
            Arch::M68k => "m68k",
        }
    }

    /// The architecture a profile's name stands for.
    pub fn named(s: &str) -> Option<Arch> {
        Arch::ALL.iter().copied().find(|a| a.name() == s)
    }

    /// Every name, for messages: "arm, armv7, …".
    pub fn names() -> String {
        Arch::ALL
            .iter()
            .map(|a| a.name())
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// Its ELF `e_machine`.
    pub fn machine(self) -> u16 {
        match self {
            Arch::Arm | Arch::Armv7 => em::ARM,
            Arch::Aarch64 => em::AARCH64,
            Arch::Mips | Arch::Mipsel | Arch::Mips64 => em::MIPS,
            Arch::PowerPc => em::PPC,
            Arch::Sh4 => em::SH,
            Arch::Sparc => em::SPARC,
            Arch::X86 => em::I386,
            Arch::X86_64 => em::X86_64,
            Arch::M68k => em::M68K,
        }
    }

    /// Whether its executables are ELFCLASS64.
    pub fn class64(self) -> bool {
        matches!(self, Arch::Aarch64 | Arch::Mips64 | Arch::X86_64)
    }

    /// Whether it is big-endian (ELFDATA2MSB).
    pub fn big_endian(self) -> bool {
        matches!(
            self,
            Arch::Mips | Arch::Mips64 | Arch::PowerPc | Arch::Sparc | Arch::M68k
        )
    }

    /// `e_flags` as a typical uClibc/musl toolchain writes them.
    fn flags(self) -> u32 {
        match self {
            // EABI version 5; the old "has entry point" bit, as many embedded
            // toolchains still set it.
            Arch::Arm | Arch::Armv7 => 0x0500_0002,
            // noreorder, cpic, o32, mips32r2.
            Arch::Mips | Arch::Mipsel => 0x7000_1005,
            // noreorder, pic, cpic, mips64r2 (n64 has no ABI bits).
            Arch::Mips64 => 0x8000_0007,
            // EF_SH4.
            Arch::Sh4 => 0x9,
            _ => 0,
        }
    }

    /// Where the text segment is loaded, as each toolchain's default linker script puts
    /// it, and the segments' alignment.
    fn layout(self) -> (u64, u64) {
        match self {
            Arch::Arm | Arch::Armv7 => (0x8000, 0x8000),
            Arch::Aarch64 => (0x40_0000, 0x1_0000),
            Arch::Mips | Arch::Mipsel | Arch::Mips64 => (0x40_0000, 0x1_0000),
            Arch::PowerPc => (0x1000_0000, 0x1_0000),
            Arch::Sh4 => (0x40_0000, 0x1_0000),
            Arch::Sparc => (0x1_0000, 0x1_0000),
            Arch::X86 => (0x804_8000, 0x1000),
            Arch::X86_64 => (0x40_0000, 0x20_0000),
            Arch::M68k => (0x8000_0000, 0x2000),
        }
    }
}

/// What an ELF header says about the machine it is built for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ElfInfo {
    /// The architecture, when the machine, class and byte order make one of ours (ARMv7
    /// and older ARM share `e_machine`: both read as [`Arch::Arm`]).
    pub arch: Option<Arch>,
    /// `e_machine`.
    pub machine: u16,
    /// ELFCLASS64.
    pub class64: bool,
    /// ELFDATA2MSB.
    pub big_endian: bool,
}

const MAGIC: &[u8; 4] = b"\x7fELF";

/// Reads the header of what may be an ELF file. `None` unless it starts with the magic,
/// names a known class and byte order, and is long enough to hold its header.
pub fn inspect(bytes: &[u8]) -> Option<ElfInfo> {
    if bytes.get(..4)? != MAGIC {
        return None;
    }
    let class64 = match *bytes.get(4)? {
        1 => false,
        2 => true,
        _ => return None,
    };
    let big_endian = match *bytes.get(5)? {
        1 => false,
        2 => true,
        _ => return None,
    };
    let header_len = if class64 { 64 } else { 52 };
    if bytes.len() < header_len {
        return None;
    }
    let raw = [bytes[18], bytes[19]];
    let machine = if big_endian {
        u16::from_be_bytes(raw)
    } else {
        u16::from_le_bytes(raw)
    };
    let arch = Arch::ALL.iter().copied().find(|a| {
        *a != Arch::Armv7
            && a.machine() == machine
            && a.class64() == class64
            && a.big_endian() == big_endian
    });
    Some(ElfInfo {
        arch,
        machine,
        class64,
        big_endian,
    })
}

/// Writes integers in one byte order and width class.
struct Writer {
    out: Vec<u8>,
    big: bool,
    wide: bool,
}

impl Writer {
    fn u8(&mut self, v: u8) {
        self.out.push(v);
    }
    fn u16(&mut self, v: u16) {
        let b = if self.big {
            v.to_be_bytes()
        } else {
            v.to_le_bytes()
        };
        self.out.extend_from_slice(&b);
    }
    fn u32(&mut self, v: u32) {
        let b = if self.big {
            v.to_be_bytes()
        } else {
            v.to_le_bytes()
        };
        self.out.extend_from_slice(&b);
    }
    fn u64(&mut self, v: u64) {
        let b = if self.big {
            v.to_be_bytes()
        } else {
            v.to_le_bytes()
        };
        self.out.extend_from_slice(&b);
    }
    /// An address or offset: 8 bytes in ELF64, 4 in ELF32 (our values fit).
    fn word(&mut self, v: u64) {
        if self.wide {
            self.u64(v)
        } else {
            self.u32(v as u32)
        }
    }
}

const PT_LOAD: u32 = 1;
const PT_GNU_STACK: u32 = 0x6474_e551;
const PF_X: u32 = 1;
const PF_W: u32 = 2;
const PF_R: u32 = 4;
const SHT_PROGBITS: u32 = 1;
const SHT_STRTAB: u32 = 3;
const SHT_NOBITS: u32 = 8;
const SHF_WRITE: u64 = 1;
const SHF_ALLOC: u64 = 2;
const SHF_EXECINSTR: u64 = 4;

/// Section names, as `strip` leaves them: no `.symtab`, so `file` says "stripped".
const SHSTRTAB: &[u8] = b"\0.shstrtab\0.text\0.data\0.bss\0";
/// Offsets of ".shstrtab", ".text", ".data", ".bss" in [`SHSTRTAB`].
const NAMES: [u32; 4] = [1, 11, 17, 23];
/// Uninitialised data after the data segment.
const BSS: u64 = 0x2400;

/// One segment or section as the headers describe it.
struct Span {
    offset: u64,
    size: u64,
}

/// The bytes of a stripped, statically linked BusyBox executable for `arch`, exactly
/// `size` bytes long: a correct ELF header, a text and a data `PT_LOAD` and a
/// `PT_GNU_STACK`, and — when there is room — a section table at the end. The rest is
/// fixed pseudo-random filler, the same for every call with the same `arch`. A `size`
/// too small for the headers (they take 148 bytes in ELF32, 232 in ELF64) gets their
/// first `size` bytes, which still hold the ELF header from 64 bytes on.
pub fn binary(arch: Arch, size: usize) -> Vec<u8> {
    let wide = arch.class64();
    let (ehsize, phentsize, shentsize) = if wide { (64, 56, 64) } else { (52, 32, 40) };
    let phnum: u64 = 3;
    let headers = ehsize + phnum * phentsize;
    let total = size as u64;
    let (base, align) = arch.layout();

    // The section table and its names go at the end, as the linker puts them; left out
    // when they would crowd out the segments.
    let shnum: u64 = 5;
    let word = if wide { 8 } else { 4 };
    let shstr_len = SHSTRTAB.len() as u64;
    let tail = shstr_len.next_multiple_of(word) + shnum * shentsize;
    let sections = total >= headers + tail + 256;
    let (shstr_off, shoff) = if sections {
        let shoff = (total - shnum * shentsize) / word * word;
        (shoff - shstr_len, shoff)
    } else {
        (total, 0)
    };

    // Text from offset 0 (it maps the headers too), data after it, 7/8 and 1/8 of what
    // is left, both ending before the section names.
    let text_start = headers.next_multiple_of(16);
    let body = shstr_off.max(headers);
    let data_off = (text_start + (body.saturating_sub(text_start)) / 8 * 7) / 16 * 16;
    let data_off = data_off.clamp(headers.min(body), body);
    let text = Span {
        offset: 0,
        size: data_off,
    };
    let data = Span {
        offset: data_off,
        size: body - data_off,
    };
    let entry = base + text_start.min(data_off.max(headers));
    let data_vaddr = base + align + data.offset;

    let mut w = Writer {
        out: Vec::with_capacity(size.max(headers as usize)),
        big: arch.big_endian(),
        wide,
    };
    // e_ident
    w.out.extend_from_slice(MAGIC);
    w.u8(if wide { 2 } else { 1 });
    w.u8(if arch.big_endian() { 2 } else { 1 });
    w.u8(1); // EV_CURRENT
    w.u8(0); // ELFOSABI_SYSV
    w.out.extend_from_slice(&[0; 8]);
    w.u16(2); // ET_EXEC
    w.u16(arch.machine());
    w.u32(1);
    w.word(entry);
    w.word(ehsize); // e_phoff
    w.word(shoff);
    w.u32(arch.flags());
    w.u16(ehsize as u16);
    w.u16(phentsize as u16);
    w.u16(phnum as u16);
    w.u16(if sections { shentsize as u16 } else { 0 });
    w.u16(if sections { shnum as u16 } else { 0 });
    w.u16(if sections { shnum as u16 - 1 } else { 0 });

    let segments = [
        (PT_LOAD, PF_R | PF_X, &text, base, text.size, align),
        (
            PT_LOAD,
            PF_R | PF_W,
            &data,
            data_vaddr,
            data.size + BSS,
            align,
        ),
    ];
    for (kind, flags, span, vaddr, memsz, align) in segments {
        program_header(&mut w, kind, flags, span, vaddr, memsz, align);
    }
    let stack = Span { offset: 0, size: 0 };
    program_header(&mut w, PT_GNU_STACK, PF_R | PF_W, &stack, 0, 0, 16);

    // Filler up to the section names, then the names and the table.
    let mut seed = 0x9e37_79b9_7f4a_7c15u64 ^ (u64::from(arch.machine()) << 32);
    for b in arch.name().bytes() {
        seed = seed.rotate_left(5) ^ u64::from(b);
    }
    let mut rng = SplitMix(seed);
    while (w.out.len() as u64) < shstr_off {
        let bytes = rng.next().to_le_bytes();
        let room = (shstr_off - w.out.len() as u64).min(8) as usize;
        w.out.extend_from_slice(&bytes[..room]);
    }
    if sections {
        w.out.extend_from_slice(SHSTRTAB);
        while (w.out.len() as u64) < shoff {
            w.u8(0);
        }
        let text_sec = Span {
            offset: text_start,
            size: data_off.saturating_sub(text_start),
        };
        let bss = Span {
            offset: data.offset + data.size,
            size: BSS,
        };
        let shstr = Span {
            offset: shstr_off,
            size: shstr_len,
        };
        let rows: [(u32, u32, u64, u64, &Span, u64); 4] = [
            (
                NAMES[1],
                SHT_PROGBITS,
                SHF_ALLOC | SHF_EXECINSTR,
                base + text_start,
                &text_sec,
                16,
            ),
            (
                NAMES[2],
                SHT_PROGBITS,
                SHF_ALLOC | SHF_WRITE,
                data_vaddr,
                &data,
                16,
            ),
            (
                NAMES[3],
                SHT_NOBITS,
                SHF_ALLOC | SHF_WRITE,
                data_vaddr + data.size,
                &bss,
                16,
            ),
            (NAMES[0], SHT_STRTAB, 0, 0, &shstr, 1),
        ];
        w.out.extend_from_slice(&vec![0; shentsize as usize]); // SHN_UNDEF
        for (name, kind, flags, addr, span, align) in rows {
            w.u32(name);
            w.u32(kind);
            w.word(flags);
            w.word(addr);
            w.word(span.offset);
            w.word(span.size);
            w.u32(0); // sh_link
            w.u32(0); // sh_info
            w.word(align);
            w.word(0); // sh_entsize
        }
    }
    let mut out = w.out;
    out.resize(size, 0);
    out
}

/// One program header; the field order differs between ELF32 and ELF64.
fn program_header(
    w: &mut Writer,
    kind: u32,
    flags: u32,
    span: &Span,
    vaddr: u64,
    memsz: u64,
    align: u64,
) {
    w.u32(kind);
    if w.wide {
        w.u32(flags);
    }
    w.word(span.offset);
    w.word(vaddr);
    w.word(vaddr); // p_paddr
    w.word(span.size);
    w.word(memsz);
    if !w.wide {
        w.u32(flags);
    }
    w.word(align);
}

/// A small fixed pseudo-random sequence (SplitMix64) for the filler.
struct SplitMix(u64);

impl SplitMix {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for &a in Arch::ALL {
            assert_eq!(Arch::named(a.name()), Some(a));
        }
        assert_eq!(Arch::named("vax"), None);
    }

    #[test]
    fn binary_reads_back_for_every_arch() {
        for &a in Arch::ALL {
            for size in [64, 100, 148, 232, 600, 4096, 1_000_003] {
                let b = binary(a, size);
                assert_eq!(b.len(), size, "{a:?} {size}");
                let info = inspect(&b).unwrap_or_else(|| panic!("{a:?} {size}"));
                let want = if a == Arch::Armv7 { Arch::Arm } else { a };
                assert_eq!(info.arch, Some(want), "{a:?}");
                assert_eq!(info.machine, a.machine());
                assert_eq!(info.class64, a.class64());
                assert_eq!(info.big_endian, a.big_endian());
            }
        }
    }

    #[test]
    fn binary_is_stable_and_differs_by_arch() {
        assert_eq!(binary(Arch::Mips, 5000), binary(Arch::Mips, 5000));
        // A shorter copy is not a prefix (the section table moves), but the filler is.
        assert_eq!(
            binary(Arch::Arm, 5000)[200..1000],
            binary(Arch::Arm, 9000)[200..1000]
        );
        assert_ne!(
            binary(Arch::Arm, 5000)[200..],
            binary(Arch::Armv7, 5000)[200..]
        );
        // Filler does not look empty.
        let b = binary(Arch::X86, 4096);
        assert!(b[300..3000].iter().filter(|&&x| x == 0).count() < 100);
    }

    #[test]
    fn tiny_sizes_do_not_panic() {
        for &a in Arch::ALL {
            for size in 0..300 {
                assert_eq!(binary(a, size).len(), size);
            }
        }
    }

    #[test]
    fn inspect_refuses_garbage() {
        assert_eq!(inspect(b""), None);
        assert_eq!(inspect(b"\x7fEL"), None);
        assert_eq!(inspect(b"\x7fELF"), None);
        assert_eq!(inspect(b"#!/bin/sh\necho hi\n"), None);
        let good = binary(Arch::X86_64, 1000);
        assert_eq!(inspect(&good[..63]), None);
        assert!(inspect(&good[..64]).is_some());
        let arm = binary(Arch::Arm, 1000);
        assert_eq!(inspect(&arm[..51]), None);
        let mut bad = arm.clone();
        bad[4] = 3;
        assert_eq!(inspect(&bad), None);
        let mut bad = arm.clone();
        bad[5] = 0;
        assert_eq!(inspect(&bad), None);
        // Unknown machine: still ELF, no arch.
        let mut odd = arm;
        odd[18] = 0x99;
        let info = inspect(&odd).unwrap();
        assert_eq!(info.arch, None);
        assert_eq!(info.machine, 0x99);
        // Every prefix and some noise.
        let mut x = 1u32;
        let mut noise = b"\x7fELF".to_vec();
        for _ in 0..200 {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            noise.push(x as u8);
            let _ = inspect(&noise);
        }
    }

    /// `readelf -h` from binutils agrees on the machine, class and byte order.
    #[test]
    fn readelf_agrees() {
        let Ok(out) = std::process::Command::new("readelf")
            .arg("--version")
            .output()
        else {
            println!("readelf not found: skipping the binutils check");
            return;
        };
        assert!(out.status.success());
        let dir = tempfile::tempdir().unwrap();
        let cases = [
            (Arch::Arm, "ARM", "ELF32", "little endian"),
            (Arch::Armv7, "ARM", "ELF32", "little endian"),
            (Arch::Aarch64, "AArch64", "ELF64", "little endian"),
            (Arch::Mips, "MIPS R3000", "ELF32", "big endian"),
            (Arch::Mipsel, "MIPS R3000", "ELF32", "little endian"),
            (Arch::Mips64, "MIPS R3000", "ELF64", "big endian"),
            (Arch::PowerPc, "PowerPC", "ELF32", "big endian"),
            (Arch::Sh4, "Renesas / SuperH SH", "ELF32", "little endian"),
            (Arch::Sparc, "Sparc", "ELF32", "big endian"),
            (Arch::X86, "Intel 80386", "ELF32", "little endian"),
            (
                Arch::X86_64,
                "Advanced Micro Devices X86-64",
                "ELF64",
                "little endian",
            ),
            (Arch::M68k, "MC68000", "ELF32", "big endian"),
        ];
        for (arch, machine, class, data) in cases {
            let path = dir.path().join(arch.name());
            std::fs::write(&path, binary(arch, 20_000)).unwrap();
            let out = std::process::Command::new("readelf")
                .args(["-h", "-l", "-S", "-W"])
                .arg(&path)
                .env("LC_ALL", "C")
                .output()
                .unwrap();
            let text = String::from_utf8_lossy(&out.stdout);
            let errors = String::from_utf8_lossy(&out.stderr);
            assert!(out.status.success(), "{arch:?}: {errors}");
            assert!(errors.trim().is_empty(), "{arch:?}: {errors}\n{text}");
            let field = |name: &str| {
                text.lines()
                    .find_map(|l| l.trim().strip_prefix(name))
                    .map(|v| v.trim().to_string())
                    .unwrap_or_default()
            };
            assert_eq!(field("Machine:"), machine, "{arch:?}\n{text}");
            assert_eq!(field("Class:"), class, "{arch:?}");
            assert!(field("Data:").contains(data), "{arch:?}");
            assert!(field("Type:").starts_with("EXEC"), "{arch:?}");
            assert!(text.contains("LOAD"), "{arch:?}");
            assert!(text.contains(".text"), "{arch:?}");
        }
    }
}
