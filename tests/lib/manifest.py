#!/usr/bin/env python3
"""The one writer of bootrino.sh manifests for the tests, the VM fixtures and the demo.

A manifest is a shell script whose metadata is JSON between two markers:

    #!/bin/sh
    # HEADER (optional comment lines)
    read BOOTRINOJSON <<"BOOTRINOJSONMARKER"
    {...}
    BOOTRINOJSONMARKER
    TAIL (optional: the shell functions of the manifest's hooks)

Commands:

  manifest.py write OUT [OPTION...] [ENTRY...]
      a v1 manifest for one architecture (--arch, default x86_64) whose payload files are on disk. ENTRY is ROLE:FILE[=NAME][:URL]:
      ROLE kernel, initrd or file; FILE a path under --root (default: OUT's directory), whose size
      and SHA-256 are taken from it; the entry's url is URL (anything after the second colon, so a
      full URL too) or FILE; its name is NAME, else FILE with --name-entries, else left out.
        --root DIR              where FILEs are
        --name-entries          name every entry after its FILE
        --name NAME             the OS's name (default "test OS"); --version V (default 1.0)
        --description TEXT, --tag TAG (repeatable)
        --arch ARCH             the architecture the payload is for: x86_64 (default) or aarch64
        --cmdline TEXT          that architecture's command line
        --min-ram MIB, --personalisation NAME
        --boot JSON             more members of "boot" (a JSON object), e.g. disk, hooks
  manifest.py edit IN OUT [OPTION...]
      IN's manifest, changed by the options below, written to OUT (IN may be OUT).
  manifest.py wrap OUT
      standard input, byte for byte, as the metadata: for manifests whose JSON is deliberately
      broken or hostile.

Options of write and edit, applied last:
  --set PATH=JSON, --set-string PATH=TEXT
      sets the member at PATH (dot-separated keys; a number indexes a list; * is every member of an
      object or list) to the JSON value or to TEXT, e.g. --set boot.architectures.x86_64.kernel.size=7,
      --set-string 'boot.architectures.*.cmdline=quiet'
  --header TEXT   the comment after #!/bin/sh (each line gets "# "; edit keeps IN's otherwise)
  --tail TEXT     what follows the metadata (edit keeps IN's otherwise)
"""
import argparse
import hashlib
import json
import os
import sys

OPEN = 'read BOOTRINOJSON <<"BOOTRINOJSONMARKER"\n'
CLOSE = "\nBOOTRINOJSONMARKER\n"


def entry(root, spec, name_entries):
    role, rest = spec.split(":", 1)
    path, url = rest.split(":", 1) if ":" in rest else (rest, None)
    path, name = path.split("=", 1) if "=" in path else (path, None)
    if role not in ("kernel", "initrd", "file"):
        sys.exit("manifest.py: %s: the role is kernel, initrd or file" % spec)
    h, size = hashlib.sha256(), 0
    with open(os.path.join(root, path), "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
            size += len(chunk)
    e = {"url": url or path}
    if name or name_entries:
        e["name"] = name or path
    e.update(size=size, sha256=h.hexdigest())
    return role, e


def build(args):
    arch = {"initrds": [], "files": []}
    for spec in args.entries:
        role, e = entry(args.root or os.path.dirname(os.path.abspath(args.out)), spec, args.name_entries)
        if role == "kernel":
            arch["kernel"] = e
        else:
            arch[role + "s"].append(e)
    arch = {k: arch[k] for k in ("kernel", "initrds", "files") if k in arch}
    if args.cmdline is not None:
        arch["cmdline"] = args.cmdline
    boot = {"schema": 1}
    if args.min_ram is not None:
        boot["minRamMiB"] = args.min_ram
    if args.personalisation is not None:
        boot["personalisation"] = args.personalisation
    boot["architectures"] = {args.arch: arch}
    boot.update(json.loads(args.boot) if args.boot else {})
    meta = {"name": args.name, "version": args.version}
    if args.description is not None:
        meta["description"] = args.description
    if args.tag:
        meta["tags"] = args.tag
    meta["boot"] = boot
    return meta


def split(text, path):
    if OPEN not in text or CLOSE not in text.split(OPEN, 1)[1]:
        sys.exit("manifest.py: %s has no BOOTRINOJSON block" % path)
    head, rest = text.split(OPEN, 1)
    body, tail = rest.split(CLOSE, 1)
    return head, json.loads(body), tail


def set_member(node, keys, value):
    key, more = keys[0], keys[1:]
    if key == "*":
        targets = list(range(len(node))) if isinstance(node, list) else list(node)
    else:
        targets = [int(key) if isinstance(node, list) else key]
    for k in targets:
        if more:
            set_member(node[k], more, value)
        else:
            node[k] = value


def apply_sets(meta, sets):
    for kind, assignment in sets:
        path, _, text = assignment.partition("=")
        value = json.loads(text) if kind == "json" else text
        set_member(meta, path.split("."), value)


def header(text):
    return "#!/bin/sh\n" + "".join("# " + line + "\n" for line in text.splitlines())


def write(out, head, meta, tail):
    with open(out, "w") as f:
        f.write(head + OPEN + json.dumps(meta, indent=2) + CLOSE + tail)


class SetAction(argparse.Action):
    def __call__(self, parser, namespace, value, option):
        namespace.sets = (namespace.sets or []) + [("json" if option == "--set" else "string", value)]


def common(p):
    p.add_argument("--set", action=SetAction, dest="sets", metavar="PATH=JSON")
    p.add_argument("--set-string", action=SetAction, dest="sets", metavar="PATH=TEXT")
    p.add_argument("--header")
    p.add_argument("--tail")


def main():
    command, argv = (sys.argv[1], sys.argv[2:]) if len(sys.argv) > 1 else ("", [])
    ap = argparse.ArgumentParser(prog="manifest.py " + command, description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    if command == "write":
        ap.add_argument("out")
        ap.add_argument("entries", nargs="*")
        ap.add_argument("--root")
        ap.add_argument("--name-entries", action="store_true")
        ap.add_argument("--name", default="test OS")
        ap.add_argument("--version", default="1.0")
        ap.add_argument("--description")
        ap.add_argument("--tag", action="append")
        ap.add_argument("--arch", choices=("x86_64", "aarch64"), default="x86_64")
        ap.add_argument("--cmdline")
        ap.add_argument("--min-ram", type=int)
        ap.add_argument("--personalisation")
        ap.add_argument("--boot")
        common(ap)
    elif command == "edit":
        ap.add_argument("src")
        ap.add_argument("out")
        common(ap)
    elif command == "wrap":
        ap.add_argument("out")
    else:
        sys.exit(__doc__)
    args = ap.parse_intermixed_args(argv)

    if command == "wrap":
        with open(args.out, "wb") as f:
            f.write(b"#!/bin/sh\n" + OPEN.encode() + sys.stdin.buffer.read() + CLOSE.encode())
        return
    if command == "write":
        head, meta, tail = "#!/bin/sh\n", build(args), ""
    else:
        with open(args.src) as f:
            head, meta, tail = split(f.read(), args.src)
    apply_sets(meta, args.sets or [])
    if args.header is not None:
        head = header(args.header)
    if args.tail is not None:
        tail = args.tail
    write(args.out, head, meta, tail)


if __name__ == "__main__":
    main()
