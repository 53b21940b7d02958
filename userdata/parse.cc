// Parse: which format the bytes are (gzip, MIME, #cloud-config, #!, others
// cloud-init knows but bootrino does not use), each part read in turn, and
// what they say merged into one Config.
#include <algorithm>

#include "userdata/cloud_config.h"
#include "userdata/decode.h"
#include "userdata/mime.h"
#include "userdata/reader_util.h"
#include "userdata/shell.h"
#include "userdata/config.h"

namespace userdata {
namespace {

using base::ErrorKind;

// MIME parts inside MIME parts: cloud-init nests one level; more is refused.
constexpr int kMaxDepth = 4;

// What the parts say, before merging.
struct Collected {
  std::size_t inflate_budget = kMaxUserDataBytes;  // bytes every gunzip together may still produce
  std::vector<Directive> keys;         // `bootrino:` keys (more than one is an error)
  std::vector<Directive> invocations;  // `bootrino run`s in scripts and runcmd, in order
  std::vector<RefusedOption> refused;  // what any of them names that user-data may not set
  std::vector<std::string> ssh_keys;
  std::string hostname;
  std::vector<std::string> notes;
};

base::Error InPart(base::Error error, const std::string& label) {
  return label.empty() ? std::move(error) : std::move(error).Context(label);
}

std::string Named(const std::string& label, const std::string& fallback) { return label.empty() ? fallback : label; }

// UTF-8 without NULs or control characters other than tab, CR, LF and form feed.
bool IsText(std::string_view s) {
  std::size_t i = 0;
  while (i < s.size()) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c < 0x80) {
      if ((c < 0x20 && c != '\t' && c != '\n' && c != '\r' && c != '\f') || c == 0x7f) return false;
      ++i;
      continue;
    }
    const std::size_t extra = c >= 0xc2 && c <= 0xdf ? 1 : c >= 0xe0 && c <= 0xef ? 2 : c >= 0xf0 && c <= 0xf4 ? 3 : 0;
    if (extra == 0 || i + extra >= s.size()) return false;
    for (std::size_t k = 1; k <= extra; ++k) {
      if ((static_cast<unsigned char>(s[i + k]) & 0xc0) != 0x80) return false;
    }
    i += extra + 1;
  }
  return true;
}

std::string FirstBytesHex(std::string_view s) {
  static const char* kHex = "0123456789abcdef";
  std::string out;
  for (std::size_t i = 0; i < std::min<std::size_t>(s.size(), 8); ++i) {
    if (i) out += ' ';
    out += kHex[static_cast<unsigned char>(s[i]) >> 4];
    out += kHex[static_cast<unsigned char>(s[i]) & 15];
  }
  return out;
}

std::string FirstLine(std::string_view s) {
  std::string line(s.substr(0, std::min(s.find('\n'), std::size_t{60})));
  if (!line.empty() && line.back() == '\r') line.pop_back();
  return line;
}

base::Result<void> Dispatch(std::string_view data, const std::string& type, const std::string& label, int depth,
                            Collected& out);

base::Result<void> CloudConfigPart(std::string_view text, const std::string& label, Collected& out) {
  auto parsed = ParseCloudConfig(text);
  if (!parsed) return base::Fail(InPart(std::move(parsed).error(), Named(label, "cloud-config")));
  auto where = [&](const std::string& what) { return label.empty() ? what : label + ", " + what; };
  if (parsed->bootrino) {
    if (!out.keys.empty()) {
      return Bad(where(parsed->bootrino->where) + ": a second bootrino: key (the first is " + out.keys[0].where + ")",
                 "keep one bootrino: key in the whole user-data");
    }
    parsed->bootrino->where = where(parsed->bootrino->where);
    for (RefusedOption& refused : parsed->bootrino->refused) refused.where = where(refused.where);
    out.refused.insert(out.refused.end(), parsed->bootrino->refused.begin(), parsed->bootrino->refused.end());
    out.keys.push_back(std::move(*parsed->bootrino));
  }
  for (Directive& d : parsed->runcmd) {
    d.where = where(d.where);
    for (RefusedOption& refused : d.refused) refused.where = d.where;
    out.refused.insert(out.refused.end(), d.refused.begin(), d.refused.end());
    out.invocations.push_back(std::move(d));
  }
  out.ssh_keys.insert(out.ssh_keys.end(), parsed->ssh_keys.begin(), parsed->ssh_keys.end());
  if (!parsed->hostname.empty()) out.hostname = parsed->hostname;
  for (const std::string& note : parsed->notes) out.notes.push_back(Named(label, "cloud-config") + ": " + note);
  return {};
}

base::Result<void> ScriptPart(std::string_view text, const std::string& label, Collected& out) {
  auto found = FindInvocations(text);
  if (!found) return base::Fail(InPart(std::move(found).error(), Named(label, "script")));
  for (const Invocation& invocation : *found) {
    const std::string where = (label.empty() ? "script" : label) + ", line " + std::to_string(invocation.line);
    auto directive =
        ParseRunArgs(invocation.args, invocation.to_install_sh ? ArgsFor::kInstallSh : ArgsFor::kBootrinoRun);
    if (!directive) return base::Fail(std::move(directive).error().Context(where));
    if (!directive->runs_nothing.empty()) {
      out.notes.push_back(where + ": " + directive->runs_nothing + ": no manifest or options are taken from it");
      continue;
    }
    directive->where = where;
    for (RefusedOption& refused : directive->refused) refused.where = where;
    out.refused.insert(out.refused.end(), directive->refused.begin(), directive->refused.end());
    out.invocations.push_back(std::move(*directive));
  }
  if (found->empty()) out.notes.push_back(Named(label, "the script") + " runs no bootrino (see docs/userdata.md)");
  return {};
}

// `number` is the part number of this entity ("2" for part 2), so its parts are "2.1", "2.2"…
base::Result<void> MimePart(std::string_view text, const std::string& label, const std::string& number, int depth,
                            Collected& out) {
  ASSIGN_OR_RETURN(MimeEntity entity, ParseEntity(text));
  if (!entity.content_type.starts_with("multipart/")) {
    return Dispatch(entity.body, entity.content_type, label.empty() ? "MIME message" : label, depth + 1, out);
  }
  auto parts = SplitMultipart(entity.body, entity.boundary);
  if (!parts) return base::Fail(InPart(std::move(parts).error(), label));
  for (std::size_t i = 0; i < parts->size(); ++i) {
    const std::string part_number = (number.empty() ? "" : number + ".") + std::to_string(i + 1);
    auto part = ParseEntity((*parts)[i]);
    if (!part) return base::Fail(InPart(std::move(part).error(), "part " + part_number));
    std::string part_label = "part " + part_number + " (" + (part->content_type.empty() ? "no type" : part->content_type);
    if (!part->filename.empty()) part_label += " \"" + part->filename + "\"";
    part_label += ")";
    if (part->content_type.starts_with("multipart/")) {
      if (depth + 1 >= kMaxDepth) {
        return Bad(part_label + ": MIME parts nested more than " + std::to_string(kMaxDepth) + " deep",
                   "flatten the archive: cloud-init's make-mime writes one level");
      }
      RETURN_IF_ERROR(MimePart((*parts)[i], part_label, part_number, depth + 1, out));
    } else {
      RETURN_IF_ERROR(Dispatch(part->body, part->content_type, part_label, depth + 1, out));
    }
  }
  return {};
}

// Reads `data` as `type` says, or by what it starts with when the type says nothing
// (as cloud-init does for text/plain, octet-stream and gzip parts).
base::Result<void> Dispatch(std::string_view data, const std::string& type, const std::string& label, int depth,
                            Collected& out) {
  if (depth > kMaxDepth) {
    return Bad(Named(label, "user-data") + ": nested more than " + std::to_string(kMaxDepth) + " deep",
               "user-data is gzip'd or MIME-wrapped once, not layer upon layer");
  }
  if (IsGzip(data)) {
    auto inflated = Gunzip(data, out.inflate_budget);
    if (!inflated) return base::Fail(InPart(std::move(inflated).error(), label));
    out.inflate_budget -= inflated->size();
    const bool says_nothing = type.empty() || type == "application/x-gzip" || type == "application/gzip" ||
                              type == "application/octet-stream" || type == "text/plain";
    return Dispatch(*inflated, says_nothing ? "" : type, label, depth + 1, out);
  }
  if (type == "text/cloud-config") return CloudConfigPart(data, label, out);
  if (type.starts_with("text/x-shellscript")) return ScriptPart(data, label, out);
  if (type == "text/x-include-url" || type == "text/x-include-once-url") {
    out.notes.push_back(label + ": ignored: bootrino does not fetch #include URLs");
    return {};
  }
  const bool sniff = type.empty() || type == "text/plain" || type == "application/octet-stream" ||
                     type == "text/x-not-multipart" || type.starts_with("multipart/");
  if (!sniff) {
    out.notes.push_back(label + ": ignored: bootrino reads cloud-config and shell scripts only");
    return {};
  }
  std::string_view head = data;
  while (!head.empty() && (head.front() == ' ' || head.front() == '\n' || head.front() == '\r' || head.front() == '\t')) {
    head.remove_prefix(1);
  }
  if (head.empty()) {
    out.notes.push_back(Named(label, "user-data") + " is empty");
    return {};
  }
  if (data.starts_with("#cloud-config-archive") || data.starts_with("#cloud-boothook") ||
      data.starts_with("#part-handler") || data.starts_with("#upstart-job") || data.starts_with("## template:") ||
      data.starts_with("#cloud-config-jsonp")) {
    out.notes.push_back(Named(label, "user-data") + " (" + FirstLine(data) +
                        "): ignored: bootrino reads cloud-config and shell scripts only");
    return {};
  }
  if (data.starts_with("#cloud-config")) return CloudConfigPart(data, label, out);
  if (data.starts_with("#!")) return ScriptPart(data, label, out);
  if (data.starts_with("#include")) {
    out.notes.push_back(Named(label, "user-data") + " (#include): ignored: bootrino does not fetch #include URLs");
    return {};
  }
  if (LooksLikeMime(data)) return MimePart(data, label, "", depth, out);
  if (!IsText(data)) {
    return Bad(Named(label, "user-data") + " is binary (first bytes " + FirstBytesHex(data) +
                   ") and not gzip, MIME, #cloud-config or a #! script",
               "give user-data as text (or gzip'd text); check it was not double-encoded or cut off");
  }
  out.notes.push_back(Named(label, "user-data") + " is in no format bootrino reads (it starts \"" + FirstLine(data) +
                      "\"); bootrino reads #cloud-config, #! scripts, MIME multipart and gzip");
  return {};
}

void Apply(const Directive& d, Config& c) {
  if (!d.hostname.empty()) c.hostname = d.hostname;
  c.trust_keys.insert(c.trust_keys.end(), d.trust_keys.begin(), d.trust_keys.end());
  c.ssh_keys.insert(c.ssh_keys.end(), d.ssh_keys.begin(), d.ssh_keys.end());
  for (const auto& [name, texts] : d.options.Given()) {
    for (const std::string& text : texts) c.options.Set(name, text);
  }
}

// The manifest: the bootrino: key's, else the first `bootrino run`'s; another one
// naming a different manifest is an error. Flags: the first run's of that manifest,
// then the key's on top.
base::Result<Config> Merge(Collected& in) {
  Config c;
  const Directive* key = in.keys.empty() ? nullptr : &in.keys[0];
  const Directive* chosen = key && !key->manifest.empty() ? key : nullptr;
  for (const Directive& d : in.invocations) {
    if (d.from_userdata) {
      in.notes.push_back(d.where + ": `bootrino run --from-userdata` takes the manifest from the bootrino: key");
      continue;
    }
    if (!chosen) {
      chosen = &d;
    } else if (d.manifest != chosen->manifest) {
      return Bad("user-data names two manifests: " + chosen->manifest + " (" + chosen->where + ") and " + d.manifest +
                     " (" + d.where + ")",
                 "name one manifest in the whole user-data");
    } else {
      in.notes.push_back(d.where + " names the same manifest again");
    }
  }
  if (chosen) c.manifest = chosen->manifest;
  // The first `bootrino run` of that manifest lends its flags, even when the key named it.
  auto run = std::find_if(in.invocations.begin(), in.invocations.end(),
                          [&](const Directive& d) { return chosen && !d.from_userdata && d.manifest == chosen->manifest; });
  if (run != in.invocations.end()) Apply(*run, c);
  c.hostname = in.hostname;
  if (key) Apply(*key, c);
  c.ssh_keys.insert(c.ssh_keys.end(), in.ssh_keys.begin(), in.ssh_keys.end());
  if (!chosen) {
    in.notes.push_back("user-data names no manifest: no bootrino: key with a manifest, no `bootrino run` or install.sh");
  }
  c.refused = std::move(in.refused);
  c.notes = std::move(in.notes);
  return c;
}

}  // namespace

base::Result<Config> Parse(std::string_view bytes) {
  if (bytes.size() > kMaxUserDataBytes) {
    return Bad("user-data is " + std::to_string(bytes.size()) + " bytes; bootrino reads at most " +
                   std::to_string(kMaxUserDataBytes),
               "user-data names a manifest; the payload is fetched from the manifest's URLs");
  }
  Collected collected;
  RETURN_IF_ERROR(Dispatch(bytes, "", "", 0, collected));
  ASSIGN_OR_RETURN(Config config, Merge(collected));
  Dedupe(config.ssh_keys);
  Dedupe(config.trust_keys);
  return config;
}

}  // namespace userdata
