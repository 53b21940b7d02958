// Resolve: the search for user-data on this host, in the order cloud-init's
// own files, NoCloud seeds, then the metadata services, and the merge of what
// the metadata service says (SSH keys, hostname) into the parsed Config.
#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <future>

#include "base/fd.h"
#include "userdata/http.h"
#include "userdata/metadata.h"
#include "userdata/userdata.h"

namespace userdata {
namespace {

namespace fs = std::filesystem;
using base::ErrorKind;

struct Found {
  std::string bytes;
  std::string source;
};

fs::path Under(const std::string& root, std::string_view absolute) {
  return fs::path(root.empty() ? "/" : root) / fs::path(absolute).relative_path();
}

// A user-data file: nullopt when it is absent or empty (noted), an error when unreadable.
base::Result<std::optional<Found>> ReadCandidate(const fs::path& path, const std::string& shown,
                                                 std::vector<std::string>& notes) {
  std::error_code ec;
  if (!fs::exists(path, ec)) return std::nullopt;
  auto bytes = base::ReadFile(path.string(), kMaxUserDataBytes);
  if (!bytes) {
    return base::Fail(base::Error(ErrorKind::kUsage, "cannot read user-data " + shown + ": " + bytes.error().message())
                          .Hint("user-data is at most 16 MiB; run as root so cloud-init's files can be read"));
  }
  if (bytes->empty()) {
    notes.push_back(shown + " is empty");
    return std::nullopt;
  }
  return Found{std::move(*bytes), shown};
}

// "\040" in /proc/mounts is a space (the kernel escapes space, tab, newline and backslash in octal).
std::string Unescape(std::string_view s) {
  std::string out;
  for (std::size_t i = 0; i < s.size(); ++i) {
    auto octal = [&](std::size_t k) { return s[k] >= '0' && s[k] <= '7'; };
    if (s[i] == '\\' && i + 3 < s.size() && octal(i + 1) && octal(i + 2) && octal(i + 3)) {
      out += static_cast<char>((s[i + 1] - '0') * 64 + (s[i + 2] - '0') * 8 + (s[i + 3] - '0'));
      i += 3;
    } else {
      out += s[i];
    }
  }
  return out;
}

// Where a volume labelled cidata (a NoCloud seed: cloud-localds, a config drive) is mounted, if it is.
std::optional<std::string> CidataMountPoint(const std::string& root) {
  for (const char* label : {"cidata", "CIDATA"}) {
    const fs::path link = Under(root, std::string("/dev/disk/by-label/") + label);
    std::error_code ec;
    const fs::path target = fs::read_symlink(link, ec);
    if (ec) continue;
    // The device as the host names it (/dev/sr0), from a link like ../../sr0.
    fs::path device = target.is_absolute() ? target : (fs::path("/dev/disk/by-label") / target).lexically_normal();
    std::ifstream mounts(Under(root, "/proc/self/mounts"));
    std::string line;
    while (std::getline(mounts, line)) {
      const std::size_t space = line.find(' ');
      if (space == std::string::npos) continue;
      const std::size_t end = line.find(' ', space + 1);
      if (Unescape(line.substr(0, space)) == device.string()) {
        return Unescape(line.substr(space + 1, end == std::string::npos ? std::string::npos : end - space - 1));
      }
    }
  }
  return std::nullopt;
}

base::Result<std::optional<Found>> FindOnDisk(const std::string& root, std::vector<std::string>& looked,
                                              std::vector<std::string>& notes) {
  std::vector<std::string> candidates = {"/var/lib/cloud/instance/user-data.txt"};
  std::error_code ec;
  std::vector<std::string> seeds;  // directory names, in cloud-init's order: nocloud, then nocloud-net
  for (const auto& entry : fs::directory_iterator(Under(root, "/var/lib/cloud/seed"), ec)) {
    const std::string name = entry.path().filename().string();
    if (name.starts_with("nocloud")) seeds.push_back(name);
  }
  std::sort(seeds.begin(), seeds.end());
  for (const std::string& name : seeds) candidates.push_back("/var/lib/cloud/seed/" + name + "/user-data");
  if (auto mount = CidataMountPoint(root)) candidates.push_back(*mount + "/user-data");
  for (const std::string& path : candidates) {
    looked.push_back(path);
    ASSIGN_OR_RETURN(auto found, ReadCandidate(Under(root, path), path, notes));
    if (found) return found;
  }
  if (seeds.empty()) looked.push_back("/var/lib/cloud/seed/nocloud*/user-data");
  return std::nullopt;
}

// Which services to ask: the one DMI names; otherwise all three when the policy says so.
std::vector<Cloud> CloudsToAsk(const Sources& sources, std::optional<Cloud> detected, bool have_user_data,
                               std::vector<std::string>& notes) {
  if (sources.metadata == MetadataPolicy::kNever) return {};
  if (detected) return {*detected};
  if (sources.metadata == MetadataPolicy::kNamedCloud || (sources.metadata == MetadataPolicy::kAuto && have_user_data)) {
    notes.push_back("DMI names no cloud this host is on: metadata services not asked");
    return {};
  }
  return {Cloud::kAws, Cloud::kGcp, Cloud::kDigitalOcean};
}

const std::string& BaseUrl(const Sources& sources, Cloud cloud) {
  switch (cloud) {
    case Cloud::kAws: return sources.aws_url;
    case Cloud::kGcp: return sources.gcp_url;
    case Cloud::kDigitalOcean: return sources.digitalocean_url;
  }
  return sources.aws_url;
}

// Asks every service in `clouds` at once (on a host without them each waits out
// its connect timeout: together that is one timeout, not three). The first in
// `clouds` order that answers wins.
base::Result<std::optional<Metadata>> AskServices(const Sources& sources, const std::vector<Cloud>& clouds, Http& http,
                                                  std::vector<std::string>& why_not) {
  struct Answer {
    base::Result<std::optional<Metadata>> result = std::nullopt;
    std::string why_not;
  };
  std::vector<std::future<Answer>> answers;
  for (Cloud cloud : clouds) {
    answers.push_back(std::async(std::launch::async, [&sources, &http, cloud] {
      Answer a;
      a.result = QueryMetadata(cloud, BaseUrl(sources, cloud), http, a.why_not);
      return a;
    }));
  }
  std::optional<Metadata> chosen;
  std::optional<base::Error> failure;
  for (std::size_t i = 0; i < answers.size(); ++i) {
    Answer a = answers[i].get();  // every future is waited for before returning
    if (!a.result) {
      if (!chosen && !failure) failure = std::move(a.result).error();
    } else if (*a.result) {
      if (!chosen && !failure) chosen = std::move(**a.result);
    } else {
      why_not.push_back(std::string(CloudName(clouds[i])) + ": " + a.why_not);
    }
  }
  if (failure) return base::Fail(std::move(*failure));
  return chosen;
}

void Dedupe(std::vector<std::string>& list) {
  std::vector<std::string> unique;
  for (std::string& s : list) {
    if (std::find(unique.begin(), unique.end(), s) == unique.end()) unique.push_back(std::move(s));
  }
  list = std::move(unique);
}

std::string Join(const std::vector<std::string>& parts, std::string_view separator) {
  std::string out;
  for (const std::string& p : parts) out += (out.empty() ? "" : std::string(separator)) + p;
  return out;
}

}  // namespace

Sources HostSources() {
  Sources sources;
  if (const char* url = std::getenv("BOOTRINO_IMDS_URL"); url && *url) {
    sources.aws_url = sources.gcp_url = sources.digitalocean_url = url;
    sources.metadata = MetadataPolicy::kAlways;
  }
  if (const char* root = std::getenv("BOOTRINO_USERDATA_ROOT"); root && *root) sources.root = root;
  return sources;
}

base::Result<Config> Resolve(const Sources& sources) {
  std::vector<std::string> notes, looked;
  std::optional<Found> found;
  if (!sources.file.empty()) {
    ASSIGN_OR_RETURN(found, ReadCandidate(sources.file, sources.file, notes));
    if (!found && notes.empty()) {
      return base::Fail(base::Error(ErrorKind::kUsage, "user-data file " + sources.file + " does not exist")
                            .Hint("name an existing file"));
    }
    looked.push_back(sources.file);
  } else {
    ASSIGN_OR_RETURN(found, FindOnDisk(sources.root, looked, notes));
  }

  std::unique_ptr<Http> own_http;
  Http* http = sources.http;
  if (!http) {
    own_http = NewCurlHttp(sources.connect_timeout, sources.request_timeout);
    http = own_http.get();
  }
  const std::optional<Cloud> detected = DetectCloud(sources.root);
  const bool have_user_data = found.has_value() || !sources.file.empty();
  const std::vector<Cloud> clouds = CloudsToAsk(sources, detected, have_user_data, notes);
  std::vector<std::string> why_not;
  ASSIGN_OR_RETURN(std::optional<Metadata> metadata, AskServices(sources, clouds, *http, why_not));
  if (!metadata && !clouds.empty()) notes.push_back("no metadata service answered (" + Join(why_not, "; ") + ")");
  if (metadata && sources.file.empty()) {
    if (!found && metadata->user_data) found = Found{std::move(*metadata->user_data), metadata->user_data_url};
    if (!metadata->user_data) looked.push_back(metadata->user_data_url);
  }

  Config config;
  if (found) {
    auto parsed = Parse(found->bytes);
    if (!parsed) return base::Fail(std::move(parsed).error().Context("user-data from " + found->source));
    config = std::move(*parsed);
    config.source = found->source;
  } else {
    notes.push_back("no user-data in " + Join(looked, ", "));
  }
  if (metadata) {
    config.cloud = std::string(CloudName(metadata->cloud));
    config.ssh_keys.insert(config.ssh_keys.end(), metadata->ssh_keys.begin(), metadata->ssh_keys.end());
    Dedupe(config.ssh_keys);
    if (config.hostname.empty()) config.hostname = metadata->hostname;
    notes.insert(notes.end(), metadata->notes.begin(), metadata->notes.end());
  }
  config.notes.insert(config.notes.begin(), notes.begin(), notes.end());
  return config;
}

}  // namespace userdata
