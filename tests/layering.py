#!/usr/bin/env python3
"""The include layering of the simulator, checked on every test run.

Folders follow the data flow; a folder may include only itself and the folders
listed for it below, so nothing points back up the flow. In particular the
units (models/) depend on nothing above them: of sim/ they see only the config
vocabulary (errors, quantities, formats, typed parameters, the component
library, unit descriptions), which they are configured in; the whole-chip
config (hw_config.h) is assembled from unit descriptions and never sees a unit
object, so sim/config includes nothing outside itself.

A source file directly under sim/ has no layer and is reported too: a new
file goes into the sub-folder of its stage. A header named *_internal.h (such
as sim/mapping/mapper_internal.h) belongs to the files of its own folder and
is reported when included from anywhere else.

Usage: layering.py [REPO_ROOT]   (exit 1 and one line per bad include)
"""
import os
import re
import sys

# Folder -> the folders it may include besides itself. Listed bottom-up.
ALLOWED = {
    "sim/config": [],
    "models": ["sim/config:vocabulary"],
    "sim/trace": ["sim/config"],
    "workloads": ["sim/config", "sim/trace"],
    "sim/mapping": ["sim/config", "models", "sim/trace", "workloads"],
    "sim/engine": ["sim/config", "models", "sim/trace", "sim/mapping"],
    "sim/report": ["sim/config", "models", "sim/trace", "workloads", "sim/mapping", "sim/engine"],
    "sim/cli": ["sim/config", "models", "sim/trace", "workloads", "sim/mapping", "sim/engine",
                "sim/report"],
}
# The part of sim/config that models/ may use: the words a unit's parameters
# are written in. Adding a header here is a decision about the layering.
VOCABULARY = {
    "sim/config/error.h",
    "sim/config/limits.h",
    "sim/config/config_tree.h",
    "sim/config/quantity.h",
    "sim/config/params.h",
    "sim/config/format.h",
    "sim/config/component_library.h",
    "sim/config/unit_desc.h",
}

INCLUDE = re.compile(r'^\s*#\s*include\s+"([^"]+)"', re.M)


def folder_of(path):
    """The layer a repository path belongs to (the longest ALLOWED key it is under)."""
    best = None
    for f in ALLOWED:
        if path.startswith(f + "/") and (best is None or len(f) > len(best)):
            best = f
    return best


def allowed(src_folder, target):
    if target.startswith(src_folder + "/"):
        return True
    for a in ALLOWED[src_folder]:
        if a == "sim/config:vocabulary":
            if target in VOCABULARY:
                return True
        elif target.startswith(a + "/"):
            return True
    return False


def check(root):
    """(files checked, one line per bad include)."""
    bad, files = [], 0
    for top in ("sim", "models", "workloads"):
        for dirpath, _, names in os.walk(os.path.join(root, top)):
            for name in sorted(names):
                if not name.endswith((".h", ".cpp")):
                    continue
                path = os.path.relpath(os.path.join(dirpath, name), root).replace(os.sep, "/")
                src = folder_of(path)
                if src is None:
                    # sim/ is only sub-folders: a file directly under it has no layer.
                    bad.append(f"{path}: not in a layer folder ({', '.join(ALLOWED)})")
                    continue
                files += 1
                with open(os.path.join(root, path), encoding="utf-8") as f:
                    text = f.read()
                for m in INCLUDE.finditer(text):
                    target = m.group(1)
                    if folder_of(target) is None and not os.path.exists(os.path.join(root, target)):
                        continue  # a system or third-party header written with quotes
                    if (target.endswith("_internal.h")
                            and os.path.dirname(target) != os.path.dirname(path)):
                        line = text.count("\n", 0, m.start()) + 1
                        bad.append(f"{path}:{line}: includes {target}, internal to "
                                   f"{os.path.dirname(target)}/")
                        continue
                    if not allowed(src, target):
                        line = text.count("\n", 0, m.start()) + 1
                        may = ", ".join(a.replace(":vocabulary", "'s vocabulary headers")
                                        for a in ALLOWED[src]) or "nothing outside itself"
                        bad.append(f"{path}:{line}: includes {target}; {src}/ may include "
                                   f"{may}")
    return files, bad


def self_test():
    """The check must catch what it is for: a unit including the engine, the config
    including a unit, a unit including the whole-chip config, another folder
    including a folder's internal header."""
    import tempfile
    cases = {
        "models/u.h": '#include "sim/engine/core.h"\n#include "sim/config/params.h"\n',
        "models/v.h": '#include "sim/config/hw_config.h"\n',
        "sim/config/c.h": '#include "models/u.h"\n#include <vector>\n',
        "sim/mapping/m.h": '#include "models/u.h"\n#include "sim/config/c.h"\n',
        "sim/loose.cpp": '#include "sim/config/c.h"\n',
        "sim/mapping/m_internal.h": '#include "sim/mapping/m.h"\n',
        "sim/mapping/m.cpp": '#include "sim/mapping/m_internal.h"\n',
        "sim/engine/e.cpp": '#include "sim/mapping/m_internal.h"\n#include "sim/mapping/m.h"\n',
    }
    with tempfile.TemporaryDirectory() as d:
        for path, text in cases.items():
            os.makedirs(os.path.join(d, os.path.dirname(path)), exist_ok=True)
            with open(os.path.join(d, path), "w", encoding="utf-8") as f:
                f.write(text)
        _, bad = check(d)
    flagged = sorted(b.split(": ")[0] for b in bad)
    want = ["models/u.h:1", "models/v.h:1", "sim/config/c.h:1", "sim/engine/e.cpp:1",
            "sim/loose.cpp"]
    if flagged != want:
        print(f"layering self-test: flagged {flagged}, expected {want}")
        return False
    return True


def main():
    root = sys.argv[1] if len(sys.argv) > 1 else os.path.dirname(os.path.dirname(
        os.path.abspath(__file__)))
    if not self_test():
        return 1
    files, bad = check(root)
    for b in bad:
        print(b)
    if files == 0:
        print(f"no sources found under {root}")
        return 1
    print(f"layering: {files} files, {len(bad)} bad includes")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
