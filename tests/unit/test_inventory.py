"""inventory's reading of what the kernel shows a container (mountinfo as seen on this machine)."""

# PID 1 of a read-only echo container, as Podman 4.3 started it through its Docker API (abridged: the
# cgroup and /proc, /sys submounts), and as Docker 20.10 did.
PODMAN = """\
354 233 0:87 / / ro,relatime - overlay overlay rw,lowerdir=/l/A:/l/B,upperdir=/d/diff,workdir=/d/work
356 354 0:119 / /tmp rw,nosuid,nodev,relatime - tmpfs tmpfs rw
355 354 0:120 / /sys ro,nosuid,nodev,noexec,relatime - sysfs sysfs ro
358 354 0:121 / /run rw,nosuid,nodev,relatime - tmpfs tmpfs rw
357 354 0:122 / /proc rw,nosuid,nodev,noexec,relatime - proc proc rw
359 354 0:123 / /dev rw,nosuid,noexec - tmpfs tmpfs rw,size=65536k,mode=755
363 354 0:125 / /var/tmp rw,nosuid,nodev,relatime - tmpfs tmpfs rw
362 354 254:0 /run/containers/u/resolv.conf /etc/resolv.conf ro,nosuid,nodev,noexec,relatime - ext4 /dev/vda rw
365 359 0:86 / /dev/shm rw,nosuid,nodev,noexec,relatime - tmpfs shm rw,size=64000k
367 355 0:126 / /sys/fs/cgroup rw,nosuid,nodev,noexec,relatime - tmpfs tmpfs rw,mode=755
239 357 0:123 /null /proc/keys rw,nosuid,noexec - tmpfs tmpfs rw,size=65536k,mode=755
"""
DOCKER = """\
130 77 0:40 / / ro,noatime master:2 - fuse.fuse-overlayfs fuse-overlayfs rw,user_id=0,group_id=0
131 130 0:46 / /proc rw,nosuid,nodev,noexec,relatime - proc proc rw
132 130 0:47 / /dev rw,nosuid - tmpfs tmpfs rw,size=65536k,mode=755
135 134 0:50 / /sys/fs/cgroup rw,nosuid,nodev,noexec,relatime - tmpfs tmpfs rw,mode=755
146 132 0:51 / /dev/shm rw,nosuid,nodev,noexec,relatime - tmpfs shm rw,size=65536k
147 130 254:0 /var/lib/docker/c/resolv.conf /etc/resolv.conf ro,relatime - ext4 /dev/vda rw,discard
72 131 0:47 /null /proc/keys rw,nosuid - tmpfs tmpfs rw,size=65536k,mode=755
"""


def test_the_writable_mounts_an_engine_adds_to_a_read_only_container_are_seen():
    from lab.inventory import writable

    assert writable(PODMAN) == ("/run", "/tmp", "/var/tmp")
    assert writable(DOCKER) == ()


def test_a_mount_is_read_only_by_its_own_options_or_its_superblocks_and_paths_are_unescaped():
    from lab.inventory import writable

    lines = [
        "1 0 0:1 / / rw,relatime - overlay overlay rw",  # a root that is not read-only at all
        "2 1 0:2 / /srv/my\\040data rw,relatime - ext4 /dev/vda rw",
        "3 1 0:3 / /ro-bind ro,relatime - ext4 /dev/vda rw",
        "4 1 0:4 / /ro-super rw,relatime - squashfs /dev/loop0 ro",
        "5 1 0:5 / /etc/hosts rw,relatime - ext4 /dev/vda rw",  # the engine's own file
        "6 1 0:6 / /run/secrets/db rw,relatime - tmpfs tmpfs rw",
    ]
    assert writable("\n".join(lines)) == ("/", "/srv/my data")
