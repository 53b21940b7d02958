#include "observe/report.h"

#include <cstdio>

#include "base/base.h"
#include "fetch/fetch.h"
#include "observe/events.h"

namespace observe {

using json = nlohmann::ordered_json;

json FileJson(const fetch::StageItem& item) {
  std::vector<std::string> urls;
  for (const auto& u : item.urls) urls.push_back(fetch::RedactUrl(u));
  return {{"role", item.role}, {"name", item.file->name}, {"size", item.file->size},
          {"sha256", item.file->sha256}, {"urls", urls}};
}

json ManifestJson(const fetch::VerifiedManifest& vm) {
  const fetch::Metadata& m = vm.manifest.meta;
  json out = {{"url", fetch::RedactUrl(vm.url)}, {"sha256", vm.sha256}, {"verifiedBy", vm.verified_by},
              {"format", vm.manifest.boot ? 1 : 0},
              {"metadata", {{"name", m.name}, {"version", m.version}, {"versionDate", m.version_date},
                            {"description", m.description}, {"options", m.options}, {"logoURL", m.logo_url},
                            {"readmeURL", m.readme_url}, {"launchTargetsURL", m.launch_targets_url},
                            {"websiteURL", m.website_url}, {"tags", m.tags},
                            {"author", {{"name", m.author.name}, {"email", m.author.email}, {"url", m.author.url}}}}}};
  if (!vm.manifest.boot) return out;
  const fetch::BootSection& b = *vm.manifest.boot;
  json boot = {{"schema", b.schema}, {"minRamMiB", b.min_ram_mib},
               {"personalisation", fetch::PersonalisationName(b.personalisation)},
               {"disk", {{"bootPartitionMiB", b.disk.boot_partition_mib}, {"dataLabel", b.disk.data_label},
                         {"dataFilesystem", b.disk.data_filesystem}}},
               {"architectures", json::object()}};
  if (b.after_stage) boot["hooks"]["afterStage"] = {{"function", b.after_stage->function},
                                                    {"timeoutSeconds", b.after_stage->timeout_seconds}};
  for (const auto& [arch, payload] : b.architectures) {
    const std::string name(base::ArchName(arch));
    json files = json::array();
    if (auto plan = fetch::PlanStage(payload, vm.url)) {
      for (const auto& item : plan->items) files.push_back(FileJson(item));
      boot["architectures"][name] = {{"cmdline", payload.cmdline}, {"files", files}, {"totalBytes", plan->total_bytes}};
    } else {
      boot["architectures"][name] = {{"cmdline", payload.cmdline},
                                     {"error", fetch::RedactUrlsInText(plan.error().message())}};
    }
  }
  out["boot"] = boot;
  return out;
}

void PrintManifest(const fetch::VerifiedManifest& vm) {
  // Every string below comes from the manifest (or the URL it was fetched
  // from): Shown() keeps its control characters from acting on the terminal.
  const fetch::Metadata& m = vm.manifest.meta;
  std::printf("%s %s%s\n", Shown(m.name).c_str(), Shown(m.version).c_str(),
              m.version_date.empty() ? "" : (" (" + Shown(m.version_date) + ")").c_str());
  if (!m.description.empty()) std::printf("  %s\n", Shown(m.description).c_str());
  auto row = [](const char* key, const std::string& value) {
    if (!value.empty()) std::printf("  %-10s %s\n", key, Shown(value).c_str());
  };
  std::string author = m.author.name;
  if (!m.author.email.empty()) author += (author.empty() ? "<" : " <") + m.author.email + ">";
  if (!m.author.url.empty()) author += (author.empty() ? "" : " ") + m.author.url;
  std::string tags;
  for (const auto& t : m.tags) tags += (tags.empty() ? "" : ", ") + t;
  row("author", author);
  row("tags", tags);
  row("website", m.website_url);
  row("readme", m.readme_url);
  row("manifest", fetch::RedactUrl(vm.url));
  row("sha256", vm.sha256);
  row("verified", vm.verified_by);
  if (!vm.manifest.boot) {
    row("format", "original bootrino metadata (no boot section): it can be inspected, not booted");
    return;
  }
  const fetch::BootSection& b = *vm.manifest.boot;
  row("format", "v1 (boot schema " + std::to_string(b.schema) + ")");
  row("memory", b.min_ram_mib ? "at least " + std::to_string(b.min_ram_mib) + " MiB" : "");
  row("personal", std::string(fetch::PersonalisationName(b.personalisation)));
  row("disk", std::to_string(b.disk.boot_partition_mib) + " MiB boot partition, " + b.disk.data_filesystem +
                  " data partition \"" + b.disk.data_label + "\"");
  if (b.after_stage) row("hook", b.after_stage->function + " after staging (limit " +
                                     std::to_string(b.after_stage->timeout_seconds) + " s)");
  for (const auto& [arch, payload] : b.architectures) {
    std::printf("  %s:\n    cmdline  %s\n", Shown(base::ArchName(arch)).c_str(), Shown(payload.cmdline).c_str());
    auto plan = fetch::PlanStage(payload, vm.url);
    if (!plan) {
      std::printf("    error    %s\n", Shown(plan.error().message()).c_str());
      continue;
    }
    for (const auto& item : plan->items) {
      std::printf("    %-7s %-26s %10s  sha256 %.16s…  %s\n", item.role.c_str(), Shown(item.file->name).c_str(),
                  base::MiB(item.file->size).c_str(), item.file->sha256.c_str(), Shown(item.urls[0]).c_str());
      for (std::size_t i = 1; i < item.urls.size(); ++i) {
        std::printf("    %-7s %-26s %10s  mirror %s\n", "", "", "", Shown(item.urls[i]).c_str());
      }
    }
    std::printf("    total   %s\n", base::MiB(plan->total_bytes).c_str());
  }
}

}  // namespace observe
