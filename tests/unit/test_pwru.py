"""The doctor's kernel-function trace line (helpers/world/pwru.py, issue 19.6), judged on facts read on
real machines: this Debian 12 workplace (6.18.44-fc-v1300: BTF, no kprobes), its Debian 13 root
(`dpkg-query -W pwru`: 1.0.5+ds1-1+b6, same kernel), and a kernel with everything."""
from helpers.world import pwru

KERNEL = "6.18.44-fc-v1300"
DEBIAN13_PWRU = "1.0.5+ds1-1+b6"


def test_debian_major_reads_debian_version():
    assert pwru.debian_major("12.11\n") == 12
    assert pwru.debian_major("13.8") == 13
    assert pwru.debian_major("trixie/sid") is None
    assert pwru.debian_major(None) is None


def test_debian_12_says_pwru_is_not_packaged_and_every_other_reason():
    found = pwru.judge(None, btf=True, kprobes=False, debian=12, kernel=KERNEL)
    assert not found.ok
    assert "pwru is not packaged for Debian 12: the course image and Debian 13 have it" in found.detail
    assert f"this kernel ({KERNEL}) has no kprobes" in found.detail and "BTF" not in found.detail
    assert "course image or a Debian 13 machine" in found.fix and "CONFIG_KPROBES=y" in found.fix


def test_debian_13_with_pwru_on_a_kernel_without_kprobes_names_the_kernel_only():
    found = pwru.judge(DEBIAN13_PWRU, btf=True, kprobes=False, debian=13, kernel=KERNEL)
    assert not found.ok and "not packaged" not in found.detail and "apt-get" not in found.fix
    assert found.detail.startswith(f"pwru {DEBIAN13_PWRU} is installed, but this kernel ({KERNEL}) has no kprobes")
    assert str(pwru.KPROBE_PMU) in found.detail and "CONFIG_KPROBES=y" in found.fix


def test_a_missing_pwru_where_debian_packages_it_is_installed_by_apt():
    found = pwru.judge(None, btf=True, kprobes=True, debian=13, kernel=KERNEL)
    assert not found.ok and found.fix == "sudo apt-get install -y pwru"


def test_no_btf_is_named_with_its_kernel_option():
    found = pwru.judge(DEBIAN13_PWRU, btf=False, kprobes=True, debian=13, kernel=KERNEL)
    assert not found.ok and str(pwru.BTF) in found.detail and "CONFIG_DEBUG_INFO_BTF=y" in found.fix


def test_everything_present_gives_pwru_s_version():
    found = pwru.judge(DEBIAN13_PWRU, btf=True, kprobes=True, debian=13, kernel=KERNEL)
    assert found.ok and found.fix == ""
    assert found.detail == f"pwru {DEBIAN13_PWRU}, BTF and kprobes present ({KERNEL})"
