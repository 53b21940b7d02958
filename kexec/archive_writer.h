// libarchive writing into memory, shared by the overlay (initrd.cc) and the
// generated archives (archive.cc): owning handles, a sink that appends to a
// std::string, and errors that carry libarchive's own text.
#pragma once

#include <memory>
#include <string>

#include <archive.h>
#include <archive_entry.h>

#include "base/base.h"

namespace kexec::archive_writer {

using Writer = base::CHandle<archive, archive_write_free>;
using Entry = base::CHandle<archive_entry, archive_entry_free>;

/// archive_write_open's write callback: `client` is the std::string to append to.
inline la_ssize_t AppendToString(archive*, void* client, const void* buffer, size_t length) {
  static_cast<std::string*>(client)->append(static_cast<const char*>(buffer), length);
  return static_cast<la_ssize_t>(length);
}

/// "writing `doing`: `what`: libarchive's message" (kInternal: bootrino wrote the entries itself).
inline base::Error Error(archive* a, const std::string& doing, const std::string& what) {
  const char* text = archive_error_string(a);
  return base::Error(base::ErrorKind::kInternal, "writing " + doing + ": " + what + ": " + (text ? text : "unknown error"));
}

}  // namespace kexec::archive_writer
