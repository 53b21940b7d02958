#include "userdata/metadata.h"

#include <algorithm>
#include <cctype>
#include <filesystem>

#include <nlohmann/json.hpp>

#include "base/base.h"
#include "userdata/config.h"
#include "userdata/decode.h"
#include "userdata/fields.h"
#include "userdata/instance_data.h"
#include "userdata/metadata_service.h"

namespace userdata {
namespace {

using base::ErrorKind;

std::string Trim(std::string_view s) { return std::string(base::Trim(s)); }

bool IsDecimal(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

// The lines of `text`, whitespace trimmed, empty ones dropped.
std::vector<std::string> Lines(std::string_view text) {
  std::vector<std::string> lines;
  while (!text.empty()) {
    const std::size_t nl = std::min(text.find('\n'), text.size());
    if (std::string line = Trim(text.substr(0, nl)); !line.empty()) lines.push_back(std::move(line));
    text.remove_prefix(std::min(nl + 1, text.size()));
  }
  return lines;
}

// AWS IMDSv2: PUT a session token, then send it with every request.
base::Result<std::optional<Metadata>> QueryAws(Service& s, std::string& why_not) {
  auto token = s.Send("PUT", "/latest/api/token", {"X-aws-ec2-metadata-token-ttl-seconds: 60"});
  if (!token) {
    why_not = token.error().message();
    return std::nullopt;
  }
  const std::optional<std::string> session = ParseSessionToken(token->body);
  if (token->status != 200 || !session) {
    why_not = "PUT " + s.Url("/latest/api/token") + " answered " + Status(*token) + ", not an IMDSv2 token";
    return std::nullopt;
  }
  s.AddHeader("X-aws-ec2-metadata-token: " + *session);
  Metadata m;
  m.cloud = Cloud::kAws;
  ASSIGN_OR_RETURN(m.user_data, s.UserData("/latest/user-data", m));
  for (const std::string& index : ParseAwsKeyIndexes(s.Text("/latest/meta-data/public-keys/", m))) {
    const std::string path = "/latest/meta-data/public-keys/" + index + "/openssh-key";
    AddSshKeys(s.Text(path, m), KeyListFormat::kPlain, s.Url(path), m);
  }
  AddHostname(s.Text("/latest/meta-data/local-hostname", m), "AWS local-hostname", m);
  return m;
}

base::Result<std::optional<Metadata>> QueryGcp(Service& s, std::string& why_not) {
  const std::string probe = "/computeMetadata/v1/instance/hostname";
  auto hostname = s.Probe(probe, why_not);
  if (!hostname) return std::nullopt;
  if (hostname->status != 200 || hostname->Header("metadata-flavor") != "Google") {
    why_not = "GET " + s.Url(probe) + " answered " + Status(*hostname) + " without Metadata-Flavor: Google";
    return std::nullopt;
  }
  Metadata m;
  m.cloud = Cloud::kGcp;
  AddHostname(hostname->body, "GCP instance/hostname", m);
  const std::string attributes = "/computeMetadata/v1/instance/attributes/";
  ASSIGN_OR_RETURN(m.user_data, s.UserData(attributes + "user-data", m));
  if (m.user_data) {
    ASSIGN_OR_RETURN(m.user_data, DecodeGcpUserData(std::move(*m.user_data), s.Text(attributes + "user-data-encoding", m)));
  }
  AddSshKeys(s.Text(attributes + "ssh-keys", m), KeyListFormat::kGcp, "GCP instance ssh-keys", m);
  if (Trim(s.Text(attributes + "block-project-ssh-keys", m)) == "true") {
    m.notes.push_back("GCP project ssh-keys not used: the instance sets block-project-ssh-keys");
  } else {
    AddSshKeys(s.Text("/computeMetadata/v1/project/attributes/ssh-keys", m), KeyListFormat::kGcp, "GCP project ssh-keys",
               m);
  }
  return m;
}

base::Result<std::optional<Metadata>> QueryDigitalOcean(Service& s, std::string& why_not) {
  return QueryPlainText(s,
                        {Cloud::kDigitalOcean, "DigitalOcean", "/metadata/v1/id", "a droplet id",
                         "/metadata/v1/user-data", "/metadata/v1/public-keys", "/metadata/v1/hostname", IsDropletId},
                        why_not);
}

std::string ReadDmi(const std::filesystem::path& path) {
  auto text = base::ReadFile(path.string(), 4096);
  return text ? Trim(*text) : std::string();
}

std::string Lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
  return s;
}

// An EC2 system UUID: "ec2…" as written (EC2E1916-9099-…), or with its first group's
// bytes reversed (45E12AEC-…, from firmware that stores it little-endian).
bool IsEc2Uuid(const std::string& uuid) {
  const std::string first = Lower(uuid.substr(0, uuid.find('-')));
  if (first.starts_with("ec2")) return true;
  return first.size() == 8 && first[4] == '2' && first.substr(6) == "ec" &&
         std::isxdigit(static_cast<unsigned char>(first[5]));
}

// How a rule compares a file's text (whitespace trimmed) with its value.
bool Is(const std::string& text, std::string_view value) { return text == value; }
bool StartsWith(const std::string& text, std::string_view value) { return text.starts_with(value); }
bool StartsWithAnyCase(const std::string& text, std::string_view value) { return Lower(text).starts_with(value); }
bool ContainsAnyCase(const std::string& text, std::string_view value) {
  return Lower(text).find(value) != std::string::npos;
}
bool Ec2Uuid(const std::string& text, std::string_view) { return IsEc2Uuid(text); }

// One of ds-identify's rules: the file `field` names (a DMI field, or a path from the root such as
// sys/hypervisor/uuid) matches `value` as `match` compares them.
struct Rule {
  std::string_view field;
  bool (*match)(const std::string& text, std::string_view value);
  std::string_view value;
};

using Query = base::Result<std::optional<Metadata>> (*)(Service&, std::string& why_not);

// Everything bootrino knows of one cloud: its name, the names cloud-init gives it, the rules that identify a
// host as it (tried in this table's order, a cloud's in its own order), and how its service is asked: the
// headers it requires on every request, and the client.
struct CloudSpec {
  Cloud cloud;
  std::string_view name;
  std::vector<std::string_view> cloud_init_names;
  std::vector<Rule> rules;
  std::vector<std::string> headers;
  Query query;
};

const std::vector<CloudSpec>& Clouds() {
  static const std::vector<CloudSpec> clouds = {
      // AWS: Xen instances' hypervisor UUID, every instance's system UUID (root-only to read), Nitro's
      // vendor, and the "…amazon" versions of the Xen ones.
      {Cloud::kAws, "aws", {"aws", "aws-china", "aws-gov"},
       {{"sys/hypervisor/uuid", StartsWithAnyCase, "ec2"},
        {"product_uuid", Ec2Uuid, ""},
        {"sys_vendor", Is, "Amazon EC2"},
        {"bios_vendor", Is, "Amazon EC2"},
        {"product_version", ContainsAnyCase, "amazon"}},
       {}, QueryAws},
      // product_name is not always set on GCE (LP: #1674861); the serial is.
      {Cloud::kGcp, "gcp", {"gce"},
       {{"product_name", Is, "Google Compute Engine"},
        {"product_name", Is, "Google"},
        {"product_serial", StartsWith, "GoogleCloud-"},
        {"sys_vendor", Is, "Google"},
        {"bios_vendor", Is, "Google"}},
       {"Metadata-Flavor: Google"}, QueryGcp},
      {Cloud::kDigitalOcean, "digitalocean", {"digitalocean"}, {{"sys_vendor", Is, "DigitalOcean"}}, {},
       QueryDigitalOcean},
      {Cloud::kAzure, "azure", {"azure"}, {{"chassis_asset_tag", Is, "7783-7084-3265-9085-8269-3286-77"}},
       {"Metadata: true"}, QueryAzure},
      {Cloud::kOracle, "oracle", {"oracle"}, {{"chassis_asset_tag", Is, "OracleCloud.com"}},
       {"Authorization: Bearer Oracle"}, QueryOracle},
      {Cloud::kHetzner, "hetzner", {"hetzner"}, {{"sys_vendor", Is, "Hetzner"}}, {}, QueryHetzner},
      {Cloud::kVultr, "vultr", {"vultr"}, {{"sys_vendor", Is, "Vultr"}}, {"Metadata-Token: cloudinit"}, QueryVultr},
      {Cloud::kOpenStack, "openstack", {"openstack"},
       {{"product_name", StartsWith, "OpenStack Nova"},
        {"product_name", StartsWith, "OpenStack Compute"},
        {"chassis_asset_tag", Is, "OpenTelekomCloud"}},
       {}, QueryOpenStack},
      // cloud-init's Akamai datasource, for Linode's hosts (which it identifies by either vendor).
      {Cloud::kLinode, "linode", {"akamai"}, {{"sys_vendor", Is, "Linode"}, {"sys_vendor", Is, "Akamai"}}, {},
       QueryLinode},
      {Cloud::kScaleway, "scaleway", {"scaleway"}, {{"sys_vendor", Is, "Scaleway"}}, {}, QueryScaleway},
      {Cloud::kExoscale, "exoscale", {"exoscale"}, {{"product_name", StartsWith, "Exoscale"}}, {}, QueryExoscale},
  };
  return clouds;
}

// The entry of `cloud`; nullptr only for a Cloud added without one (UserdataMetadata.EveryCloudHasItsEntry).
const CloudSpec* SpecOf(Cloud cloud) {
  for (const CloudSpec& spec : Clouds()) {
    if (spec.cloud == cloud) return &spec;
  }
  return nullptr;
}

// The cloud a cloud-init cloud name or cloud-id names; nullopt for any other. Only the
// names cloud-init gives after identifying the platform itself: its Ec2 datasource on a
// platform it could not identify says "unknown" (platform "ec2"), having believed
// whoever answered 169.254.169.254, which is the very thing bootrino must not do.
std::optional<Cloud> CloudInitCloud(const std::string& name) {
  for (const CloudSpec& spec : Clouds()) {
    for (std::string_view known : spec.cloud_init_names) {
      if (name == known) return spec.cloud;
    }
  }
  return std::nullopt;
}

// What cloud-init recorded of the datasource it used this boot (/run is a tmpfs: a
// record is this boot's). cloud-init writes both files as root, after its own checks.
std::optional<Identity> CloudInitRecord(const std::filesystem::path& base) {
  std::vector<std::string> unused_notes;  // Resolve reads the record again, and notes what it skipped
  if (auto data = ReadInstanceData(base.string(), unused_notes)) {
    if (auto cloud = CloudInitCloud(data->cloud_name)) {
      return Identity{*cloud, "cloud-init's " + data->path + " has cloud_name \"" + data->cloud_name + "\""};
    }
    return std::nullopt;  // cloud-init's datasource is another (nocloud, openstack…): its record says so
  }
  // cloud-id is a link to cloud-id-ID, which holds "ID\n"; the link's target is
  // absolute, so it is followed here under `base`, not by the kernel.
  std::filesystem::path id_path = base / "run/cloud-init/cloud-id";
  std::error_code ec;
  if (std::filesystem::is_symlink(id_path, ec)) {
    const std::filesystem::path target = std::filesystem::read_symlink(id_path, ec);
    if (ec) return std::nullopt;
    id_path = target.is_absolute() ? base / target.relative_path() : id_path.parent_path() / target;
  }
  const std::string id = ReadDmi(id_path);
  if (auto cloud = CloudInitCloud(id)) {
    return Identity{*cloud, "cloud-init's /run/cloud-init/cloud-id is \"" + id + "\""};
  }
  return std::nullopt;
}

}  // namespace

std::optional<std::string> ParseSessionToken(std::string_view body) {
  std::string token = Trim(body);
  // It goes back in a header: a line break would end that header and start another.
  if (token.empty() || !std::all_of(token.begin(), token.end(), [](char c) { return c > ' ' && c < 0x7f; })) {
    return std::nullopt;
  }
  return token;
}

std::vector<std::string> ParseAwsKeyIndexes(std::string_view listing) {
  std::vector<std::string> indexes;
  for (const std::string& entry : Lines(listing)) {
    std::string index = entry.substr(0, entry.find('='));
    if (IsDecimal(index)) indexes.push_back(std::move(index));
  }
  return indexes;
}

void AddSshKeys(std::string_view body, KeyListFormat format, const std::string& from, InstanceFacts& m) {
  for (std::string line : Lines(body)) {
    // GCP writes "USER:ssh-ed25519 AAAA… comment".
    if (format == KeyListFormat::kGcp) {
      const std::size_t colon = line.find(':');
      if (colon != std::string::npos && line.substr(0, colon).find(' ') == std::string::npos) line.erase(0, colon + 1);
    }
    if (std::string problem = CheckSshKey(line); !problem.empty()) {
      m.notes.push_back("skipped a key from " + from + ": " + base::PrintableText(problem, false));
    } else {
      m.ssh_keys.push_back(line);
    }
  }
}

void AddHostname(std::string_view body, const std::string& from, InstanceFacts& m) {
  const std::string name = Trim(body);
  if (name.empty()) return;
  if (std::string problem = CheckHostname(name); !problem.empty()) {
    // A note is one line of `bootrino userdata`: a line break in the name must not start another.
    const std::string shown = base::PrintableText(name, false);
    m.notes.push_back("skipped the hostname \"" + shown + "\" from " + from + ": " + problem);
  } else {
    m.hostname = name;
  }
}

bool IsDropletId(std::string_view body) { return IsDecimal(Trim(body)); }

base::Result<std::string> DecodeGcpUserData(std::string body, std::string_view encoding) {
  if (Trim(encoding) != "base64") return body;
  auto decoded = DecodeBase64(body);
  if (!decoded) return base::Fail(std::move(decoded).error().Context("GCP user-data (user-data-encoding: base64)"));
  return decoded;
}

std::string_view CloudName(Cloud cloud) {
  const CloudSpec* spec = SpecOf(cloud);
  return spec ? spec->name : "?";
}

std::optional<Identity> IdentifyCloud(const std::string& root) {
  const std::filesystem::path base(root.empty() ? "/" : root);
  if (auto recorded = CloudInitRecord(base)) return recorded;
  for (const CloudSpec& spec : Clouds()) {
    for (const Rule& rule : spec.rules) {
      const bool dmi = rule.field.find('/') == std::string_view::npos;
      const std::string text = ReadDmi(dmi ? base / "sys/class/dmi/id" / rule.field : base / rule.field);
      if (text.empty() || !rule.match(text, rule.value)) continue;
      const std::string what = dmi ? "DMI " + std::string(rule.field) : "/" + std::string(rule.field);
      return Identity{spec.cloud, what + " is \"" + text + "\""};
    }
  }
  return std::nullopt;
}

std::optional<Cloud> DetectCloud(const std::string& root) {
  auto identity = IdentifyCloud(root);
  if (!identity) return std::nullopt;
  return identity->cloud;
}

base::Result<std::optional<Metadata>> QueryMetadata(Cloud cloud, const std::string& base_url, Http& http,
                                                    std::string& why_not) {
  const CloudSpec* spec = SpecOf(cloud);
  if (!spec) return base::Fail(ErrorKind::kInternal, "no metadata client for cloud " + std::to_string(int(cloud)));
  Service s(http, base_url, spec->headers);
  auto result = spec->query(s, why_not);
  if (!result) return base::Fail(std::move(result).error().Context(std::string(CloudName(cloud)) + " metadata"));
  if (*result) (*result)->service_url = base_url;
  return result;
}

}  // namespace userdata
