#include "fetch/manifest.h"

#include <algorithm>
#include <iterator>
#include <map>
#include <set>
#include <vector>

#include <nlohmann/json.hpp>

#include "base/base.h"

namespace fetch {
namespace {

using base::ErrorKind;
using base::Fail;
using base::Result;
using nlohmann::json;

constexpr std::string_view kMarker = "BOOTRINOJSONMARKER";

/// The heredoc body and the 1-based line where it starts.
struct JsonBlock {
  std::string_view text;
  int first_line = 0;
};

std::string_view TrimRight(std::string_view s) {
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) s.remove_suffix(1);
  return s;
}

// The opening line is `read BOOTRINOJSON <<"BOOTRINOJSONMARKER"`; the original
// scripts quote the marker with ", POSIX sh also allows ' or none.
bool IsOpeningLine(std::string_view line) {
  line = TrimRight(line);
  if (!line.starts_with("read BOOTRINOJSON")) return false;
  auto heredoc = line.find("<<");
  if (heredoc == std::string_view::npos) return false;
  std::string_view word = line.substr(heredoc + 2);
  while (!word.empty() && word.front() == ' ') word.remove_prefix(1);
  return word == kMarker || word == "\"BOOTRINOJSONMARKER\"" || word == "'BOOTRINOJSONMARKER'";
}

Result<JsonBlock> FindJsonBlock(std::string_view script) {
  int line_no = 0;
  std::size_t pos = 0;
  std::optional<std::size_t> body_start;
  int body_line = 0;
  while (pos < script.size()) {
    std::size_t end = script.find('\n', pos);
    if (end == std::string_view::npos) end = script.size();
    std::string_view line = script.substr(pos, end - pos);
    ++line_no;
    if (!body_start && IsOpeningLine(line)) {
      body_start = end + 1;
      body_line = line_no + 1;
    } else if (body_start && TrimRight(line) == kMarker) {
      return JsonBlock{script.substr(*body_start, pos - *body_start), body_line};
    }
    pos = end + 1;
  }
  if (body_start) {
    return Fail(ErrorKind::kManifest, "line " + std::to_string(body_line - 1) +
                                          ": the BOOTRINOJSON heredoc is never closed by a "
                                          "BOOTRINOJSONMARKER line");
  }
  return Fail(ErrorKind::kManifest,
              "no metadata block: a bootrino.sh must contain a line "
              "`read BOOTRINOJSON <<\"BOOTRINOJSONMARKER\"`, a JSON object, and a closing "
              "BOOTRINOJSONMARKER line");
}

/// Reads typed fields of one JSON object and names the exact field in errors.
class Fields {
 public:
  Fields(const json& object, std::string path) : object_(object), path_(std::move(path)) {}

  Result<std::string> String(const char* key, bool required, std::string fallback = "") const {
    const json* v = Find(key);
    if (!v) return Missing(key, required, std::move(fallback));
    if (!v->is_string()) return Wrong(key, "a string");
    return v->get<std::string>();
  }

  Result<std::uint64_t> Unsigned(const char* key, bool required, std::uint64_t fallback = 0) const {
    const json* v = Find(key);
    if (!v) {
      if (required) return Fail(ErrorKind::kManifest, Path(key) + " is required");
      return fallback;
    }
    if (!v->is_number_unsigned()) return Wrong(key, "a whole number of at least 0");
    return v->get<std::uint64_t>();
  }

  Result<std::vector<std::string>> Strings(const char* key) const {
    std::vector<std::string> out;
    const json* v = Find(key);
    if (!v) return out;
    if (!v->is_array()) return Wrong(key, "an array of strings");
    for (const json& item : *v) {
      if (!item.is_string()) return Wrong(key, "an array of strings");
      out.push_back(item.get<std::string>());
    }
    return out;
  }

  /// Fails on keys outside `known`: in the boot section a typo must not pass silently.
  Result<void> OnlyKnown(std::initializer_list<std::string_view> known) const {
    for (const auto& [key, value] : object_.items()) {
      if (std::find(known.begin(), known.end(), key) == known.end()) {
        return Fail(ErrorKind::kManifest, Path(key.c_str()) + " is not a known field");
      }
    }
    return {};
  }

  const json* Find(const char* key) const {
    auto it = object_.find(key);
    if (it == object_.end() || it->is_null()) return nullptr;
    return &*it;
  }
  std::string Path(std::string_view key) const {
    return path_.empty() ? std::string(key) : path_ + "." + std::string(key);
  }

 private:
  Result<std::string> Missing(const char* key, bool required, std::string fallback) const {
    if (required) return Fail(ErrorKind::kManifest, Path(key) + " is required");
    return fallback;
  }
  std::unexpected<base::Error> Wrong(const char* key, const char* what) const {
    return Fail(ErrorKind::kManifest, Path(key) + " must be " + what);
  }

  const json& object_;
  std::string path_;
};

Result<Metadata> ParseMetadata(const json& root) {
  Fields f(root, "");
  Metadata m;
  ASSIGN_OR_RETURN(m.name, f.String("name", true));
  ASSIGN_OR_RETURN(m.version, f.String("version", false));
  ASSIGN_OR_RETURN(m.version_date, f.String("versionDate", false));
  ASSIGN_OR_RETURN(m.description, f.String("description", false));
  ASSIGN_OR_RETURN(m.options, f.String("options", false));
  ASSIGN_OR_RETURN(m.logo_url, f.String("logoURL", false));
  ASSIGN_OR_RETURN(m.readme_url, f.String("readmeURL", false));
  ASSIGN_OR_RETURN(m.launch_targets_url, f.String("launchTargetsURL", false));
  ASSIGN_OR_RETURN(m.website_url, f.String("websiteURL", false));
  ASSIGN_OR_RETURN(m.tags, f.Strings("tags"));
  if (const json* author = f.Find("author")) {
    if (author->is_string()) {
      m.author.name = author->get<std::string>();
    } else if (author->is_object()) {
      Fields a(*author, "author");
      ASSIGN_OR_RETURN(m.author.name, a.String("name", false));
      ASSIGN_OR_RETURN(m.author.email, a.String("email", false));
      ASSIGN_OR_RETURN(m.author.url, a.String("url", false));
    } else {
      return Fail(ErrorKind::kManifest, "author must be an object or a string");
    }
  }
  if (m.name.empty()) return Fail(ErrorKind::kManifest, "name must not be empty");
  return m;
}

// Names become paths in a stage dir and on a FAT partition: keep them plain.
Result<void> CheckFileName(const std::string& name, const std::string& path) {
  auto bad = [&](const std::string& why) {
    return Fail(ErrorKind::kManifest, path + " \"" + name + "\" " + why);
  };
  if (name.empty()) return bad("is empty");
  if (name.size() > 200) return bad("is longer than 200 characters");
  if (name.front() == '/') return bad("must be relative");
  if (name.starts_with(".bootrino")) return bad("uses a name bootrino keeps for itself (.bootrino…)");
  for (char c : name) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '_' || c == '-' || c == '+' || c == '/';
    if (!ok) return bad("may use only letters, digits, '.', '_', '-', '+' and '/'");
  }
  std::size_t start = 0;
  while (start <= name.size()) {
    std::size_t end = name.find('/', start);
    if (end == std::string::npos) end = name.size();
    std::string_view part(name.data() + start, end - start);
    if (part.empty() || part == "." || part == "..") return bad("has an empty, '.' or '..' component");
    start = end + 1;
  }
  return {};
}

bool IsSha256Hex(const std::string& s) {
  return s.size() == 64 && std::all_of(s.begin(), s.end(), [](char c) {
           return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
         });
}

std::string BaseName(std::string_view url) {
  url = url.substr(0, url.find_first_of("?#"));
  auto slash = url.rfind('/');
  return std::string(slash == std::string_view::npos ? url : url.substr(slash + 1));
}

Result<PayloadFile> ParseFile(const json& j, const std::string& path) {
  if (!j.is_object()) return Fail(ErrorKind::kManifest, path + " must be an object");
  Fields f(j, path);
  RETURN_IF_ERROR(f.OnlyKnown({"url", "mirrors", "size", "sha256", "name"}));
  PayloadFile file;
  ASSIGN_OR_RETURN(file.url, f.String("url", true));
  if (file.url.empty()) return Fail(ErrorKind::kManifest, path + ".url must not be empty");
  ASSIGN_OR_RETURN(file.mirrors, f.Strings("mirrors"));
  ASSIGN_OR_RETURN(file.size, f.Unsigned("size", true));
  if (file.size == 0) return Fail(ErrorKind::kManifest, path + ".size must be at least 1");
  if (file.size > kMaxPayloadFileBytes) {
    return Fail(ErrorKind::kManifest, path + ".size " + std::to_string(file.size) +
                                          " is more than 1 TiB; no RAM OS file is that large");
  }
  ASSIGN_OR_RETURN(std::string hash, f.String("sha256", true));
  std::transform(hash.begin(), hash.end(), hash.begin(), [](unsigned char c) { return std::tolower(c); });
  if (!IsSha256Hex(hash)) {
    return Fail(ErrorKind::kManifest, path + ".sha256 must be 64 hexadecimal digits (sha256sum's output)");
  }
  file.sha256 = hash;
  ASSIGN_OR_RETURN(file.name, f.String("name", false, BaseName(file.url)));
  RETURN_IF_ERROR(CheckFileName(file.name, path + ".name"));
  return file;
}

std::string LowerAscii(std::string s) {
  for (char& c : s) c = static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
  return s;
}

// Every file must land on a path of its own, in the stage directory and on the
// FAT boot partition, where names are case-insensitive: "vmlinuz" and
// "VMLINUZ" are one file there, and "a" cannot be both a file and the
// directory "a/b" needs. Names are compared case-folded for that reason.
Result<void> CheckNamesDistinct(const ArchPayload& a, const std::string& path) {
  std::map<std::string, std::string> files;  // case-folded name -> name as written
  std::map<std::string, std::string> dirs;   // case-folded directory -> a name that needs it
  auto distinct = [&](const std::string& name, const std::string& other) {
    return Fail(base::Error(ErrorKind::kManifest, path + ": the files \"" + other + "\" and \"" + name +
                                                      "\" would land on the same path in the stage directory "
                                                      "or on the boot partition (FAT ignores case)")
                    .Hint("give each file a distinct \"name\" in the manifest (not differing only in case, "
                          "and not a file where another needs a directory)"));
  };
  for (const PayloadFile* file : a.All()) {
    const std::string folded = LowerAscii(file->name);
    if (auto it = files.find(folded); it != files.end()) return distinct(file->name, it->second);
    if (auto it = dirs.find(folded); it != dirs.end()) return distinct(file->name, it->second);
    for (std::size_t slash = folded.find('/'); slash != std::string::npos; slash = folded.find('/', slash + 1)) {
      const std::string dir = folded.substr(0, slash);
      if (auto it = files.find(dir); it != files.end()) return distinct(file->name, it->second);
      dirs.emplace(dir, file->name);
    }
    files.emplace(folded, file->name);
  }
  return {};
}

Result<std::vector<PayloadFile>> ParseFileList(const Fields& f, const char* key) {
  std::vector<PayloadFile> out;
  const json* list = f.Find(key);
  if (!list) return out;
  if (!list->is_array()) return Fail(ErrorKind::kManifest, f.Path(key) + " must be an array");
  for (std::size_t i = 0; i < list->size(); ++i) {
    ASSIGN_OR_RETURN(PayloadFile file, ParseFile((*list)[i], f.Path(key) + "[" + std::to_string(i) + "]"));
    out.push_back(std::move(file));
  }
  return out;
}

Result<ArchPayload> ParseArchPayload(const json& j, const std::string& path) {
  if (!j.is_object()) return Fail(ErrorKind::kManifest, path + " must be an object");
  Fields f(j, path);
  RETURN_IF_ERROR(f.OnlyKnown({"kernel", "initrds", "files", "cmdline"}));
  ArchPayload a;
  const json* kernel = f.Find("kernel");
  if (!kernel) return Fail(ErrorKind::kManifest, path + ".kernel is required");
  ASSIGN_OR_RETURN(a.kernel, ParseFile(*kernel, path + ".kernel"));
  ASSIGN_OR_RETURN(a.initrds, ParseFileList(f, "initrds"));
  ASSIGN_OR_RETURN(a.files, ParseFileList(f, "files"));
  ASSIGN_OR_RETURN(a.cmdline, f.String("cmdline", false));
  if (a.cmdline.find_first_of(std::string_view("\n\r\0", 3)) != std::string::npos) {
    return Fail(ErrorKind::kManifest, path + ".cmdline must be one line");
  }
  RETURN_IF_ERROR(CheckNamesDistinct(a, path));
  return a;
}

Result<Personalisation> ParsePersonalisation(const std::string& s) {
  for (auto p : {Personalisation::kNone, Personalisation::kInitramfsOverlay,
                 Personalisation::kAlpineApkovl, Personalisation::kTinyCoreMydata}) {
    if (s == PersonalisationName(p)) return p;
  }
  return Fail(ErrorKind::kManifest, "boot.personalisation \"" + s +
                                        "\" is not one of: overlay, apkovl, tinycore-mydata, none");
}

Result<std::optional<HookSpec>> ParseHooks(const Fields& boot) {
  const json* hooks = boot.Find("hooks");
  if (!hooks) return std::optional<HookSpec>();
  if (!hooks->is_object()) return Fail(ErrorKind::kManifest, "boot.hooks must be an object");
  Fields h(*hooks, "boot.hooks");
  RETURN_IF_ERROR(h.OnlyKnown({"afterStage"}));
  const json* after = h.Find("afterStage");
  if (!after) return std::optional<HookSpec>();
  if (!after->is_object()) return Fail(ErrorKind::kManifest, "boot.hooks.afterStage must be an object");
  Fields a(*after, "boot.hooks.afterStage");
  RETURN_IF_ERROR(a.OnlyKnown({"function", "timeoutSeconds"}));
  HookSpec spec;
  ASSIGN_OR_RETURN(spec.function, a.String("function", false, "bootrino_after_stage"));
  bool valid_name = !spec.function.empty() && !std::isdigit(static_cast<unsigned char>(spec.function[0])) &&
                    std::all_of(spec.function.begin(), spec.function.end(),
                                [](unsigned char c) { return std::isalnum(c) || c == '_'; });
  if (!valid_name) return Fail(ErrorKind::kManifest, "boot.hooks.afterStage.function must be a shell function name");
  ASSIGN_OR_RETURN(std::uint64_t timeout, a.Unsigned("timeoutSeconds", false, 60));
  if (timeout < 1 || timeout > 3600) {
    return Fail(ErrorKind::kManifest, "boot.hooks.afterStage.timeoutSeconds must be 1 to 3600");
  }
  spec.timeout_seconds = static_cast<int>(timeout);
  return std::optional<HookSpec>(spec);
}

Result<BootSection> ParseBoot(const json& j) {
  if (!j.is_object()) return Fail(ErrorKind::kManifest, "boot must be an object");
  Fields f(j, "boot");
  RETURN_IF_ERROR(f.OnlyKnown({"schema", "minRamMiB", "personalisation", "disk", "hooks", "architectures"}));
  BootSection b;
  ASSIGN_OR_RETURN(std::uint64_t schema, f.Unsigned("schema", true));
  if (schema != 1) {
    return Fail(base::Error(ErrorKind::kManifest, "boot.schema " + std::to_string(schema) +
                                                      " is newer than this bootrino understands (1)")
                    .Hint("upgrade bootrino, or ask the manifest's author for a schema 1 version"));
  }
  ASSIGN_OR_RETURN(b.min_ram_mib, f.Unsigned("minRamMiB", false, 0));
  if (b.min_ram_mib > kMaxMinRamMiB) {
    return Fail(ErrorKind::kManifest, "boot.minRamMiB " + std::to_string(b.min_ram_mib) +
                                          " is more than 1 PiB; give the RAM the OS needs in MiB");
  }
  ASSIGN_OR_RETURN(std::string style, f.String("personalisation", false, "none"));
  ASSIGN_OR_RETURN(b.personalisation, ParsePersonalisation(style));
  if (const json* disk = f.Find("disk")) {
    if (!disk->is_object()) return Fail(ErrorKind::kManifest, "boot.disk must be an object");
    Fields d(*disk, "boot.disk");
    RETURN_IF_ERROR(d.OnlyKnown({"bootPartitionMiB", "dataLabel", "dataFilesystem"}));
    ASSIGN_OR_RETURN(b.disk.boot_partition_mib, d.Unsigned("bootPartitionMiB", false, 512));
    ASSIGN_OR_RETURN(b.disk.data_label, d.String("dataLabel", false, "bootrino-data"));
    ASSIGN_OR_RETURN(b.disk.data_filesystem, d.String("dataFilesystem", false, "ext4"));
    if (b.disk.boot_partition_mib < base::kMinBootPartitionMiB ||
        b.disk.boot_partition_mib > base::kMaxBootPartitionMiB) {
      return Fail(ErrorKind::kManifest, "boot.disk.bootPartitionMiB must be " +
                                            std::to_string(base::kMinBootPartitionMiB) + " to " +
                                            std::to_string(base::kMaxBootPartitionMiB));
    }
    if (b.disk.data_label.empty() || b.disk.data_label.size() > 16) {
      return Fail(ErrorKind::kManifest, "boot.disk.dataLabel must be 1 to 16 characters (an ext4 label)");
    }
    if (b.disk.data_filesystem != "ext4") {
      return Fail(ErrorKind::kManifest, "boot.disk.dataFilesystem \"" + b.disk.data_filesystem +
                                            "\" is not supported; use \"ext4\"");
    }
  }
  ASSIGN_OR_RETURN(b.after_stage, ParseHooks(f));
  const json* archs = f.Find("architectures");
  if (!archs || !archs->is_object() || archs->empty()) {
    return Fail(ErrorKind::kManifest, "boot.architectures must be an object naming at least one of x86_64, aarch64");
  }
  for (const auto& [name, payload] : archs->items()) {
    const std::optional<base::Arch> arch = base::ParseArch(name);
    if (!arch) {
      return Fail(ErrorKind::kManifest,
                  "boot.architectures." + name + " is not a known architecture; use x86_64 or aarch64 (uname -m)");
    }
    ASSIGN_OR_RETURN(b.architectures[*arch], ParseArchPayload(payload, "boot.architectures." + name));
  }
  return b;
}

int LineOfOffset(const JsonBlock& block, std::size_t offset) {
  offset = std::min(offset, block.text.size());
  return block.first_line + static_cast<int>(std::count(block.text.begin(), block.text.begin() + offset, '\n'));
}

/// Walks the text like a const char*, counting the bytes the JSON lexer has
/// taken: the parser's callbacks carry no position, this gives them one.
class CountingIterator {
 public:
  using iterator_category = std::input_iterator_tag;
  using value_type = char;
  using difference_type = std::ptrdiff_t;
  using pointer = const char*;
  using reference = const char&;

  CountingIterator(const char* at, std::size_t* consumed) : at_(at), consumed_(consumed) {}
  reference operator*() const { return *at_; }
  CountingIterator& operator++() {
    ++at_;
    ++*consumed_;
    return *this;
  }
  CountingIterator operator++(int) {
    CountingIterator before = *this;
    ++*this;
    return before;
  }
  bool operator==(const CountingIterator& other) const { return at_ == other.at_; }

 private:
  const char* at_;
  std::size_t* consumed_;
};

/// The first key given twice in one object, and the offset just after it.
struct DuplicateKey {
  std::string key;
  std::size_t offset = 0;
};

/// Parses `text` as nlohmann does, and finds a key repeated within one object
/// at any depth. nlohmann keeps the last of them silently; another reader may
/// keep the first, so a reviewer and bootrino could read different manifests.
json ParseJson(std::string_view text, std::optional<DuplicateKey>& duplicate) {
  std::size_t consumed = 0;
  std::vector<std::set<std::string>> open_objects;
  auto callback = [&](int, json::parse_event_t event, json& parsed) {
    switch (event) {
      case json::parse_event_t::object_start: open_objects.emplace_back(); break;
      case json::parse_event_t::object_end:
        if (!open_objects.empty()) open_objects.pop_back();
        break;
      case json::parse_event_t::key:
        if (!open_objects.empty() && !open_objects.back().insert(parsed.get<std::string>()).second && !duplicate) {
          duplicate = DuplicateKey{parsed.get<std::string>(), consumed};
        }
        break;
      default: break;
    }
    return true;
  };
  return json::parse(CountingIterator(text.data(), &consumed),
                     CountingIterator(text.data() + text.size(), &consumed), callback);
}

}  // namespace

std::vector<const PayloadFile*> ArchPayload::All() const {
  std::vector<const PayloadFile*> all{&kernel};
  for (const auto& f : initrds) all.push_back(&f);
  for (const auto& f : files) all.push_back(&f);
  return all;
}

std::string_view PersonalisationName(Personalisation p) {
  switch (p) {
    case Personalisation::kNone: return "none";
    case Personalisation::kInitramfsOverlay: return "overlay";
    case Personalisation::kAlpineApkovl: return "apkovl";
    case Personalisation::kTinyCoreMydata: return "tinycore-mydata";
  }
  return "none";
}

Result<const ArchPayload*> Manifest::PayloadFor(base::Arch arch) const {
  if (!boot) {
    return Fail(base::Error(ErrorKind::kManifest,
                            "this manifest has no boot section (it is in the original, metadata-only "
                            "bootrino format), so there is nothing to fetch or boot")
                    .Hint("add a \"boot\" object as described in docs/manifest.md"));
  }
  auto it = boot->architectures.find(arch);
  if (it == boot->architectures.end()) {
    std::string have;
    for (const auto& [a, payload] : boot->architectures)
      have += (have.empty() ? "" : ", ") + std::string(base::ArchName(a));
    return Fail(ErrorKind::kManifest,
                "this manifest has no payload for " + std::string(base::ArchName(arch)) + " (it has: " + have + ")");
  }
  return &it->second;
}

Result<Manifest> ParseManifest(std::string_view script) {
  if (script.size() > kMaxManifestBytes) {
    return Fail(ErrorKind::kManifest, "the manifest is larger than 1 MiB; a bootrino.sh is a small script");
  }
  if (script.find('\0') != std::string_view::npos) {
    return Fail(ErrorKind::kManifest, "the manifest contains NUL bytes; it must be a text file");
  }
  ASSIGN_OR_RETURN(JsonBlock block, FindJsonBlock(script));
  json root;
  std::optional<DuplicateKey> duplicate;
  try {
    root = ParseJson(block.text, duplicate);
  } catch (const json::parse_error& e) {
    // nlohmann reports a 1-based byte position within the parsed text.
    std::size_t at = e.byte > 0 ? e.byte - 1 : 0;
    std::string what = e.what();
    auto detail = what.find("syntax error");
    return Fail(ErrorKind::kManifest, "line " + std::to_string(LineOfOffset(block, at)) +
                                          ": the metadata block is not valid JSON: " +
                                          (detail == std::string::npos ? what : what.substr(detail)));
  } catch (const json::out_of_range& e) {
    // A number too large for any JSON number type ("number overflow parsing '1e999'"):
    // no byte position, but the message quotes the number, which names its line.
    std::string what = e.what();
    auto detail = what.find("number overflow");
    auto quote = what.find('\'');
    std::size_t at = std::string_view::npos;
    if (quote != std::string::npos && what.size() > quote + 2) {
      at = block.text.find(std::string_view(what).substr(quote + 1, what.size() - quote - 2));
    }
    std::string line = at == std::string_view::npos ? "" : "line " + std::to_string(LineOfOffset(block, at)) + ": ";
    return Fail(ErrorKind::kManifest, line + "the metadata block holds a number out of range: " +
                                          (detail == std::string::npos ? what : what.substr(detail)));
  }
  if (duplicate) {
    return Fail(ErrorKind::kManifest, "line " + std::to_string(LineOfOffset(block, duplicate->offset)) +
                                          ": the key \"" + duplicate->key +
                                          "\" appears twice in one object; JSON readers disagree on which "
                                          "one counts, so bootrino accepts neither");
  }
  if (!root.is_object()) return Fail(ErrorKind::kManifest, "the metadata block must be a JSON object");
  Manifest m;
  m.json = std::string(block.text);
  ASSIGN_OR_RETURN(m.meta, ParseMetadata(root));
  if (const json* boot = Fields(root, "").Find("boot")) {
    ASSIGN_OR_RETURN(m.boot, ParseBoot(*boot));
  }
  return m;
}

}  // namespace fetch
