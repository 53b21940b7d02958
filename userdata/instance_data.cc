#include "userdata/instance_data.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <filesystem>

#include <nlohmann/json.hpp>

#include "base/base.h"

namespace userdata {
namespace {

std::string TextOf(const nlohmann::json& v1, const char* key) {
  const auto it = v1.find(key);
  return it != v1.end() && it->is_string() ? it->get<std::string>() : std::string();
}

// A value shown as it is, on a line of `bootrino userdata` and in notes: "" when it holds a control
// character (a line break there would forge another line).
std::string LineOf(const nlohmann::json& v1, const char* key) {
  std::string text = TextOf(v1, key);
  const bool control = std::any_of(text.begin(), text.end(), [](unsigned char c) { return c < ' ' || c == 0x7f; });
  return control ? std::string() : text;
}

// cloud-init's fallback when the platform gives no name: the image's, not the instance's.
bool IsPlaceholderName(std::string_view name) { return name == "localhost" || name == "localhost.localdomain"; }

// The record at `path` (shown as `shown`), when cloud-init could have written it: a regular file owned by
// root (or by the user bootrino runs as, who could write any of this anyway) that nobody else may change.
std::optional<std::string> ReadTrusted(const std::filesystem::path& path, const std::string& shown,
                                       std::vector<std::string>& notes) {
  const int raw = ::open(path.c_str(), O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
  if (raw < 0) {
    // Absent, or root's own (the sensitive record, for a user who is not root): nothing to say.
    if (errno != ENOENT && errno != EACCES && errno != ENOTDIR) {
      notes.push_back("skipped " + shown + ": " + base::SysMessage("open", shown, errno));
    }
    return std::nullopt;
  }
  base::Fd fd(raw);
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0 || !S_ISREG(st.st_mode)) {
    notes.push_back("skipped " + shown + ": not a regular file");
    return std::nullopt;
  }
  if ((st.st_uid != 0 && st.st_uid != ::geteuid()) || (st.st_mode & (S_IWGRP | S_IWOTH)) != 0) {
    char mode[8];
    std::snprintf(mode, sizeof mode, "%03o", static_cast<unsigned>(st.st_mode & 0777));
    notes.push_back("skipped " + shown + ": owned by uid " + std::to_string(st.st_uid) + " with mode " + mode +
                    ", so not only cloud-init could have written it");
    return std::nullopt;
  }
  auto text = base::ReadAll(fd, shown, kMaxInstanceDataBytes);
  if (!text) {
    notes.push_back("skipped " + shown + ": " + text.error().message());
    return std::nullopt;
  }
  return std::move(*text);
}

}  // namespace

std::optional<InstanceData> ParseInstanceData(std::string_view text, const std::string& shown, std::string& why_not) {
  const auto json = nlohmann::json::parse(text, nullptr, false);
  if (json.is_discarded() || !json.is_object()) {
    why_not = shown + " is not a JSON object";
    return std::nullopt;
  }
  const auto v1 = json.find("v1");
  if (v1 == json.end() || !v1->is_object()) {
    why_not = shown + " has no v1 object";
    return std::nullopt;
  }
  InstanceData data;
  data.path = shown;
  data.cloud_name = LineOf(*v1, "cloud_name");
  data.platform = LineOf(*v1, "platform");
  data.region = LineOf(*v1, "region");
  data.instance_id = LineOf(*v1, "instance_id");
  // cloud-init lists the platform's keys as strings; a key list in one string (as some services give it)
  // is read line by line.
  if (const auto keys = v1->find("public_ssh_keys"); keys != v1->end()) {
    if (keys->is_string()) AddSshKeys(keys->get<std::string>(), KeyListFormat::kPlain, shown, data);
    if (keys->is_array()) {
      for (const auto& key : *keys) {
        if (key.is_string()) AddSshKeys(key.get<std::string>(), KeyListFormat::kPlain, shown, data);
      }
    }
  }
  const std::string hostname = TextOf(*v1, "local_hostname");
  // cloud-init's Ec2 datasource on a platform it could not identify (cloud_name "unknown") took its data from
  // whoever answered 169.254.169.254: what bootrino will not believe from the network, it does not take here.
  if (data.platform == "ec2" && !data.cloud_name.starts_with("aws")) {
    data.ssh_keys.clear();
    data.notes = {"not the SSH keys and hostname of " + shown + ": cloud-init's Ec2 datasource on a platform it did "
                  "not identify (cloud_name \"" + data.cloud_name + "\") believed whoever answered 169.254.169.254"};
    return data;
  }
  if (IsPlaceholderName(hostname)) {
    data.notes.push_back("not the hostname \"" + hostname + "\" from " + shown + ": cloud-init's placeholder");
  } else {
    AddHostname(hostname, shown, data);
  }
  return data;
}

std::optional<InstanceData> ReadInstanceData(const std::string& root, std::vector<std::string>& notes) {
  const std::filesystem::path base(root.empty() ? "/" : root);
  for (const char* name : {"instance-data-sensitive.json", "instance-data.json"}) {
    const std::string shown = std::string("/run/cloud-init/") + name;
    auto text = ReadTrusted(base / shown.substr(1), shown, notes);
    if (!text) continue;
    std::string why_not;
    if (auto data = ParseInstanceData(*text, shown, why_not)) return data;
    notes.push_back("skipped " + why_not);
  }
  return std::nullopt;
}

std::string CloudNameOfInstance(const InstanceData& data) {
  if (data.cloud_name == "gce") return "gcp";
  // A datasource without a cloud of its own (NoCloud, ConfigDrive) says "unknown": its platform says more.
  if (data.cloud_name == "unknown" && !data.platform.empty()) return data.platform;
  return data.cloud_name;
}

}  // namespace userdata
