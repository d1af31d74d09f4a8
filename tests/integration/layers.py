"""What an image's layers hold, read from the engine's own export (`docker save`, the same call on Podman's
Docker API): no container is run, so no engine's run-time defaults get in the way."""

from __future__ import annotations

import hashlib
import tarfile
import tempfile


def copies(client, image: str, data: bytes) -> list[str]:
    """Every file in any layer of `image` whose bytes are `data` (a deleted layer file still counts: it
    is in the image that is shipped)."""
    want, size = hashlib.sha256(data).hexdigest(), len(data)
    found = []
    with tempfile.TemporaryFile() as saved:
        for chunk in client.images.get(image).save(named=True):
            saved.write(chunk)
        saved.seek(0)
        with tarfile.open(fileobj=saved) as outer:
            for member in outer:
                if not member.isfile() or not (member.name.endswith(".tar") or member.name.startswith("blobs/")):
                    continue
                layer = _layer(outer, member)
                if layer is None:
                    continue
                with layer:
                    for f in layer:
                        if f.isfile() and f.size == size:
                            body = layer.extractfile(f).read()
                            if hashlib.sha256(body).hexdigest() == want:
                                found.append(f"{member.name}:{f.name}")
    return found


def _layer(outer: tarfile.TarFile, member: tarfile.TarInfo) -> tarfile.TarFile | None:
    try:
        return tarfile.open(fileobj=outer.extractfile(member), mode="r:*")
    except tarfile.ReadError:  # a config or manifest blob, not a layer
        return None
