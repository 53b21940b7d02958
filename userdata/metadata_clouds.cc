// The metadata services of Azure, Oracle Cloud, Hetzner Cloud, OpenStack, Vultr, Linode, Scaleway and
// Exoscale, for hosts where cloud-init did not run (a golden image's unit). Each is asked only on a host
// identified as that cloud (IdentifyCloud), with the header its service requires, and answers with a document
// (JSON, or YAML on Hetzner; plain text files on Exoscale) that holds the SSH keys and the hostname; the
// formats are the providers' documented ones, as cloud-init's datasources read them.
#include <algorithm>
#include <cctype>

#include <nlohmann/json.hpp>

#include "base/base.h"
#include "userdata/decode.h"
#include "userdata/metadata_service.h"
#include "userdata/yaml_tree.h"

namespace userdata {
namespace {

using json = nlohmann::json;

// The JSON object a service answered at `path`; nullopt (and why, in `why_not`) when it did not answer as
// that service would: no connection, a status other than 200, or a body that is not a JSON object. `extra`
// headers go with the request.
std::optional<json> JsonDocument(Service& s, const std::string& path, std::string& why_not,
                                 std::vector<std::string> extra = {}) {
  auto r = s.Probe(path, why_not, std::move(extra));
  if (!r) return std::nullopt;
  if (r->status != 200) {
    why_not = "GET " + s.Url(path) + " answered " + Status(*r);
    return std::nullopt;
  }
  json document = json::parse(r->body, nullptr, false);
  if (document.is_discarded() || !document.is_object()) {
    why_not = "GET " + s.Url(path) + " answered with something other than a JSON object";
    return std::nullopt;
  }
  return document;
}

// The string at `pointer` in `document`; "" when absent or not a string.
std::string TextAt(const json& document, const char* pointer) {
  const json::json_pointer at(pointer);
  return document.contains(at) && document[at].is_string() ? document[at].get<std::string>() : std::string();
}

// Adds the SSH keys of the JSON array at `list` in `document`: its strings, or with `member`, the string at
// `member` in each of its objects (each an authorized_keys line, or several). Whatever else is there is skipped.
void AddKeysAt(const json& document, const char* list, const char* member, const std::string& from,
               InstanceFacts& m) {
  const json::json_pointer at(list);
  if (!document.contains(at) || !document[at].is_array()) return;
  for (const json& key : document[at]) {
    if (!*member && key.is_string()) AddSshKeys(key.get<std::string>(), KeyListFormat::kPlain, from, m);
    if (*member && key.is_object()) AddSshKeys(TextAt(key, member), KeyListFormat::kPlain, from, m);
  }
}

// True when `document` holds an id at `pointer`: a string that is not empty, or a number (Linode's ids).
bool HasId(const json& document, const char* pointer) {
  const json::json_pointer at(pointer);
  if (!document.contains(at)) return false;
  const json& id = document[at];
  return id.is_number_integer() || (id.is_string() && !id.get<std::string>().empty());
}

// The instance document at `path` (asked with the `extra` headers): a JSON object holding an id at one of
// `id_pointers`, which is what tells the service from something else answering there.
std::optional<json> InstanceDocument(Service& s, const std::string& path, std::initializer_list<const char*> id_pointers,
                                     std::string& why_not, std::vector<std::string> extra = {}) {
  std::optional<json> document = JsonDocument(s, path, why_not, std::move(extra));
  if (!document) return std::nullopt;
  for (const char* pointer : id_pointers) {
    if (HasId(*document, pointer)) return document;
  }
  why_not = "GET " + s.Url(path) + " answered without an instance id";
  return std::nullopt;
}

// True when `body` is an instance id as CloudStack gives one (Exoscale's are UUIDs): one word of letters,
// digits and '-', surrounding whitespace trimmed.
bool IsInstanceId(std::string_view body) {
  const std::string_view id = base::Trim(body);
  return !id.empty() && std::all_of(id.begin(), id.end(), [](unsigned char c) { return std::isalnum(c) || c == '-'; });
}

// Base64 user-data as the services give it (empty: none); a value that is not base64 is an error, since the
// service did answer and its user-data cannot be read.
base::Result<std::optional<std::string>> Base64UserData(const std::string& text, const std::string& from) {
  if (text.empty()) return std::optional<std::string>();
  auto bytes = DecodeBase64(text);
  if (!bytes) return base::Fail(std::move(bytes).error().Context("user-data from " + from));
  if (bytes->empty()) return std::optional<std::string>();
  return std::optional<std::string>(std::move(*bytes));
}

// The value of the mapping `node` at `key`, or nullptr.
YamlRef Entry(const YamlRef& node, std::string_view key) {
  if (!node || node->kind != YamlNode::Kind::kMapping) return nullptr;
  for (const auto& [k, v] : node->entries) {
    if (k->kind == YamlNode::Kind::kScalar && k->value == key) return v;
  }
  return nullptr;
}

}  // namespace

// Azure IMDS: every request carries "Metadata: true" (the service refuses requests without it, and
// requests that came through a proxy). The instance document holds the admin's keys and the computer name;
// user-data (not custom data, which only reaches the VM on its provisioning media) is base64 text.
base::Result<std::optional<Metadata>> QueryAzure(Service& s, std::string& why_not) {
  const std::string path = "/metadata/instance?api-version=2021-02-01";
  std::optional<json> instance = JsonDocument(s, path, why_not);
  if (!instance) return std::nullopt;
  if (!instance->contains("compute") || !(*instance)["compute"].is_object()) {
    why_not = "GET " + s.Url(path) + " answered without a compute object";
    return std::nullopt;
  }
  Metadata m;
  m.cloud = Cloud::kAzure;
  const json& compute = (*instance)["compute"];
  AddKeysAt(compute, "/publicKeys", "/keyData", "Azure compute/publicKeys", m);
  AddHostname(TextAt(compute, "/osProfile/computerName"), "Azure compute/osProfile/computerName", m);
  const std::string user_data_path = "/metadata/instance/compute/userData?api-version=2021-01-01&format=text";
  ASSIGN_OR_RETURN(std::optional<std::string> text, s.UserData(user_data_path, m));
  ASSIGN_OR_RETURN(m.user_data, Base64UserData(text.value_or(""), m.user_data_url));
  return m;
}

// Oracle Cloud's v2 service: "Authorization: Bearer Oracle" on every request. One instance document:
// the hostname, and under metadata the keys (one string, a key per line) and base64 user-data.
base::Result<std::optional<Metadata>> QueryOracle(Service& s, std::string& why_not) {
  const std::string path = "/opc/v2/instance/";
  std::optional<json> instance = InstanceDocument(s, path, {"/id"}, why_not);
  if (!instance) return std::nullopt;
  Metadata m;
  m.cloud = Cloud::kOracle;
  m.user_data_url = s.Url(path) + " (metadata.user_data)";
  AddSshKeys(TextAt(*instance, "/metadata/ssh_authorized_keys"), KeyListFormat::kPlain,
             "Oracle metadata/ssh_authorized_keys", m);
  AddHostname(TextAt(*instance, "/hostname"), "Oracle hostname", m);
  ASSIGN_OR_RETURN(m.user_data, Base64UserData(TextAt(*instance, "/metadata/user_data"), m.user_data_url));
  return m;
}

// Hetzner Cloud: /hetzner/v1/metadata is a YAML document (hostname, instance-id, public-keys), and
// /hetzner/v1/userdata the user-data as given, which Hetzner keeps as text: people base64 it to pass
// binary, so text that decodes as base64 is decoded, as cloud-init does.
base::Result<std::optional<Metadata>> QueryHetzner(Service& s, std::string& why_not) {
  const std::string path = "/hetzner/v1/metadata";
  auto r = s.Probe(path, why_not);
  if (!r) return std::nullopt;
  auto document = r->status == 200 ? LoadYaml(r->body) : base::Result<YamlRef>(nullptr);
  const YamlRef id = document ? Entry(*document, "instance-id") : nullptr;
  if (!id || id->kind != YamlNode::Kind::kScalar || id->value.empty()) {
    why_not = "GET " + s.Url(path) + " answered " + Status(*r) + ", not a document with an instance-id";
    return std::nullopt;
  }
  Metadata m;
  m.cloud = Cloud::kHetzner;
  if (const YamlRef keys = Entry(*document, "public-keys"); keys && keys->kind == YamlNode::Kind::kSequence) {
    for (const YamlRef& key : keys->items) {
      if (key->kind == YamlNode::Kind::kScalar) AddSshKeys(key->value, KeyListFormat::kPlain, "Hetzner public-keys", m);
    }
  }
  if (const YamlRef name = Entry(*document, "hostname"); name && name->kind == YamlNode::Kind::kScalar) {
    AddHostname(name->value, "Hetzner hostname", m);
  }
  ASSIGN_OR_RETURN(m.user_data, s.UserData("/hetzner/v1/userdata", m));
  if (m.user_data) {
    if (auto decoded = DecodeBase64(*m.user_data); decoded && !decoded->empty()) m.user_data = std::move(*decoded);
  }
  return m;
}

std::optional<OpenStackMetaData> ParseOpenStackMetaData(std::string_view text, const std::string& from,
                                                        std::string& why_not) {
  const json meta = json::parse(text, nullptr, false);
  if (meta.is_discarded() || !meta.is_object()) {
    why_not = "not a JSON object";
    return std::nullopt;
  }
  OpenStackMetaData facts;
  facts.uuid = TextAt(meta, "/uuid");
  if (facts.uuid.empty()) {
    why_not = "a JSON object without a uuid";
    return std::nullopt;
  }
  if (meta.contains("public_keys") && meta["public_keys"].is_object()) {
    for (const auto& [name, key] : meta["public_keys"].items()) {
      if (!key.is_string()) continue;
      AddSshKeys(key.get<std::string>(), KeyListFormat::kPlain, from + " public_keys/" + name, facts);
    }
  }
  // Nova always writes hostname; name (the server's, as its owner typed it) is what other writers may give alone.
  const std::string hostname = TextAt(meta, "/hostname");
  AddHostname(hostname.empty() ? TextAt(meta, "/name") : hostname, from + (hostname.empty() ? " name" : " hostname"),
              facts);
  return facts;
}

// OpenStack's metadata service (Nova): meta_data.json holds the instance's uuid, hostname and its key pair
// ({"name": "ssh-… key"}), as a config drive does; user_data is the user-data as given (404 when there is none).
base::Result<std::optional<Metadata>> QueryOpenStack(Service& s, std::string& why_not) {
  const std::string path = "/openstack/latest/meta_data.json";
  auto r = s.Probe(path, why_not);
  if (!r) return std::nullopt;
  std::string not_meta = Status(*r);
  std::optional<OpenStackMetaData> meta;
  if (r->status == 200) meta = ParseOpenStackMetaData(r->body, "OpenStack", not_meta);
  if (!meta) {
    why_not = "GET " + s.Url(path) + " answered " + not_meta;
    return std::nullopt;
  }
  Metadata m;
  static_cast<InstanceFacts&>(m) = std::move(*meta);
  m.cloud = Cloud::kOpenStack;
  ASSIGN_OR_RETURN(m.user_data, s.UserData("/openstack/latest/user_data", m));
  return m;
}

// Vultr: /v1.json, asked with a "Metadata-Token" header as cloud-init asks it, holds the hostname, the
// public-keys list and the user-data as given.
base::Result<std::optional<Metadata>> QueryVultr(Service& s, std::string& why_not) {
  const std::string path = "/v1.json";
  std::optional<json> document = InstanceDocument(s, path, {"/instance-v2-id", "/instanceid"}, why_not);
  if (!document) return std::nullopt;
  Metadata m;
  m.cloud = Cloud::kVultr;
  AddKeysAt(*document, "/public-keys", "", "Vultr public-keys", m);
  AddHostname(TextAt(*document, "/hostname"), "Vultr hostname", m);
  m.user_data_url = s.Url(path) + " (user-data)";
  if (std::string text = TextAt(*document, "/user-data"); !text.empty()) m.user_data = std::move(text);
  return m;
}

// Linode (Akamai): a session token first (PUT /v1/token with its lifetime in
// Metadata-Token-Expiry-Seconds), sent back in Metadata-Token. The instance (its id and label, the hostname
// Linode gives none other) and the keys of its root user are JSON when asked for it (plain text otherwise);
// user-data is base64, as the API takes it.
base::Result<std::optional<Metadata>> QueryLinode(Service& s, std::string& why_not) {
  const std::string token_path = "/v1/token";
  auto token = s.Send("PUT", token_path, {"Metadata-Token-Expiry-Seconds: 60"});
  if (!token) {
    why_not = token.error().message();
    return std::nullopt;
  }
  const std::optional<std::string> session = ParseSessionToken(token->body);
  if (token->status != 200 || !session) {
    why_not = "PUT " + s.Url(token_path) + " answered " + Status(*token) + ", not a metadata token";
    return std::nullopt;
  }
  s.AddHeader("Metadata-Token: " + *session);
  const std::vector<std::string> as_json = {"Accept: application/json"};
  std::optional<json> instance = InstanceDocument(s, "/v1/instance", {"/id"}, why_not, as_json);
  if (!instance) return std::nullopt;
  Metadata m;
  m.cloud = Cloud::kLinode;
  std::string keys_why_not;
  if (std::optional<json> keys = JsonDocument(s, "/v1/ssh-keys", keys_why_not, as_json); !keys) {
    m.notes.push_back("no SSH keys from Linode: " + keys_why_not);
  } else {
    AddKeysAt(*keys, "/users/root", "", "Linode ssh-keys users/root", m);
  }
  AddHostname(TextAt(*instance, "/label"), "Linode label", m);
  ASSIGN_OR_RETURN(std::optional<std::string> text, s.UserData("/v1/user-data", m));
  ASSIGN_OR_RETURN(m.user_data, Base64UserData(text.value_or(""), m.user_data_url));
  return m;
}

// Scaleway, at its own address (169.254.42.42): /conf?format=json holds the server's id, hostname and the
// project's keys (ssh_public_keys[].key, and keys in AUTHORIZED_KEY= tags, with '_' for each space, as
// cloud-init reads them); /user_data/cloud-init is the user-data as given (404: none), which the service gives
// only to a request from a port below 1024, its proof that root asks.
base::Result<std::optional<Metadata>> QueryScaleway(Service& s, std::string& why_not) {
  std::optional<json> conf = InstanceDocument(s, "/conf?format=json", {"/id"}, why_not);
  if (!conf) return std::nullopt;
  Metadata m;
  m.cloud = Cloud::kScaleway;
  AddKeysAt(*conf, "/ssh_public_keys", "/key", "Scaleway ssh_public_keys", m);
  if (conf->contains("tags") && (*conf)["tags"].is_array()) {
    constexpr std::string_view kKeyTag = "AUTHORIZED_KEY=";
    for (const json& tag : (*conf)["tags"]) {
      if (!tag.is_string() || !tag.get<std::string>().starts_with(kKeyTag)) continue;
      std::string key = tag.get<std::string>().substr(kKeyTag.size());
      std::replace(key.begin(), key.end(), '_', ' ');
      AddSshKeys(key, KeyListFormat::kPlain, "Scaleway tag AUTHORIZED_KEY", m);
    }
  }
  AddHostname(TextAt(*conf, "/hostname"), "Scaleway hostname", m);
  s.FromPrivilegedPort();
  ASSIGN_OR_RETURN(m.user_data, s.UserData("/user_data/cloud-init", m));
  return m;
}

base::Result<std::optional<Metadata>> QueryPlainText(Service& s, const PlainTextService& layout, std::string& why_not) {
  auto id = s.Probe(layout.id, why_not);
  if (!id) return std::nullopt;
  if (id->status != 200 || !layout.is_id(id->body)) {
    why_not = "GET " + s.Url(layout.id) + " answered " + Status(*id) + ", not " + std::string(layout.what_id);
    return std::nullopt;
  }
  auto label = [&](std::string_view path) {
    return std::string(layout.name) + " " + std::string(path.substr(path.rfind('/') + 1));
  };
  Metadata m;
  m.cloud = layout.cloud;
  ASSIGN_OR_RETURN(m.user_data, s.UserData(layout.user_data, m));
  AddSshKeys(s.Text(layout.keys, m), KeyListFormat::kPlain, label(layout.keys), m);
  AddHostname(s.Text(layout.hostname, m), label(layout.hostname), m);
  return m;
}

// Exoscale's CloudStack-style service: a text file per value under /latest/meta-data/ (instance-id first: it
// tells the service from something else answering there), public-keys one key per line, and /latest/user-data
// as given (404: none).
base::Result<std::optional<Metadata>> QueryExoscale(Service& s, std::string& why_not) {
  return QueryPlainText(s,
                        {Cloud::kExoscale, "Exoscale", "/latest/meta-data/instance-id", "an instance id",
                         "/latest/user-data", "/latest/meta-data/public-keys", "/latest/meta-data/local-hostname",
                         IsInstanceId},
                        why_not);
}

}  // namespace userdata
