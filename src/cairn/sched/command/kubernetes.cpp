// Kubernetes: one batch/v1 Job per stage through kubectl, found by label, read with
// `kubectl get jobs -o json`.

#include <cairn/sched/command/parsing.hpp>
#include <cairn/sched/command/preset.hpp>
#include <cairn/util/time.hpp>

namespace cairn::sched::command {

namespace {

using engine::JobState;

std::string value_of(const Values& values, const std::string& key) {
  auto it = values.find(key);
  return it == values.end() ? "" : it->second;
}

class Kubernetes : public Preset {
 public:
  std::string_view name() const override { return "kubernetes"; }

  PresetDefaults defaults() const override {
    return {
        .submit = "kubectl [ --namespace {namespace} ] create -f - -o name",
        .status =
            "kubectl [ --namespace {namespace} ] get jobs -l app.kubernetes.io/managed-by=cairn -o json",
        .find =
            "kubectl [ --namespace {namespace} ] get jobs -l "
            "app.kubernetes.io/managed-by=cairn,cairn.dev/key={key_label} -o json",
        .cancel = "kubectl [ --namespace {namespace} ] delete job {job_id}",
        .logs = "kubectl [ --namespace {namespace} ] logs job/{job_id} --tail={lines} --all-containers=true",
        .settings = {"namespace", "image", "pvc"},
        .required = {"image"}};
  }

  bool find_answers_as_status() const override { return true; }

  // kubectl -o name: "job.batch/cairn-c-s-1"
  Expected<std::string> submit_id(const std::string& prog, std::string_view out) const override {
    std::string id = CAIRN_TRY(Preset::submit_id(prog, out));
    if (id.find('/') != std::string::npos) id = id.substr(id.rfind('/') + 1);
    return id;
  }

  // The Job cairn asks for, as JSON (which kubectl reads as YAML): values are JSON
  // strings, never spliced into text.
  std::string submit_input(const engine::SubmitRequest& request, const Values& v,
                           const Values& settings) const override {
    const auto& res = request.spec.resources;
    const std::string key = request.key.str();
    const std::string pvc = value_of(settings, "pvc");
    json container = {{"name", "stage"},
                      {"image", value_of(settings, "image")},
                      {"command", {"/bin/sh", value_of(v, "run")}},
                      {"workingDir", request.campaign_dir},
                      {"env", json::array({{{"name", "CAIRN_KEY"}, {"value", key}},
                                           {{"name", "CAIRN_DIR"}, {"value", request.campaign_dir}}})}};
    json limits = json::object();
    if (res.cpus) limits["cpu"] = std::to_string(*res.cpus);
    if (res.mem_mb) limits["memory"] = std::to_string(*res.mem_mb) + "Mi";
    if (res.gpus && *res.gpus > 0) limits["nvidia.com/gpu"] = std::to_string(*res.gpus);
    if (!limits.empty()) container["resources"] = {{"requests", limits}, {"limits", limits}};
    json pod = {{"restartPolicy", "Never"}, {"containers", json::array()}};
    if (!pvc.empty()) {
      container["volumeMounts"] = json::array({{{"name", "work"}, {"mountPath", request.campaign_dir}}});
      pod["volumes"] = json::array({{{"name", "work"}, {"persistentVolumeClaim", {{"claimName", pvc}}}}});
    }
    pod["containers"].push_back(container);
    json labels = {{"app.kubernetes.io/managed-by", "cairn"}};
    // find() selects by this label (a valid label value, hashed when the key is not one)
    // and then matches the full key in the annotation.
    json job_labels = labels;
    job_labels["cairn.dev/key"] = value_of(v, "key_label");
    json job = {
        {"apiVersion", "batch/v1"},
        {"kind", "Job"},
        {"metadata",
         {{"name", value_of(v, "k8s_name")},
          {"labels", job_labels},
          {"annotations",
           {{"cairn.dev/key", key},
            {"cairn.dev/campaign", request.key.campaign},
            {"cairn.dev/stage", request.key.stage}}}}},
        {"spec", {{"backoffLimit", 0}, {"template", {{"metadata", {{"labels", labels}}}, {"spec", pod}}}}}};
    if (res.time_seconds) job["spec"]["activeDeadlineSeconds"] = *res.time_seconds;
    return job.dump(2) + "\n";
  }

  // Without a `pvc` holding the campaign directory a pod's files die with it.
  bool outputs_are_files(const Values& settings) const override { return !value_of(settings, "pvc").empty(); }

  Expected<std::vector<CommandJob>> parse_status(std::string_view text, engine::TimePoint) const override {
    std::vector<CommandJob> out;
    auto doc = CAIRN_TRY(parse_document("kubectl get jobs", text));
    std::vector<json> items;
    if (doc.contains("items") && doc["items"].is_array()) {
      items = doc["items"].get<std::vector<json>>();
    } else if (json_str(doc, "kind") == "Job") {
      items.push_back(doc);
    } else {
      return fail("kubectl get jobs: neither a List with \"items\" nor a Job");
    }
    for (const auto& item : items) {
      if (!item.is_object())
        return fail("kubectl get jobs: an item is not a Job object: " +
                    clip(item.dump(-1, ' ', false, json::error_handler_t::replace), 120));
      CommandJob job;
      const json meta = item.value("metadata", json::object());
      const json spec = item.value("spec", json::object());
      const json st = item.value("status", json::object());
      job.status.job_id = json_str(meta, "name");
      job.name = job.status.job_id;
      if (auto ann = meta.find("annotations"); ann != meta.end() && ann->is_object()) {
        if (auto k = json_str(*ann, "cairn.dev/key"); !k.empty()) job.name = k;
      }
      const auto active = json_int(st, "active").value_or(0);
      const auto ready = json_int(st, "ready");
      const auto failed = json_int(st, "failed").value_or(0);
      JobState state = JobState::pending;
      std::string reason;
      bool final = false;
      if (auto conds = st.find("conditions"); conds != st.end() && conds->is_array()) {
        for (const auto& c : *conds) {
          if (json_str(c, "status") != "True") continue;
          const std::string type = json_str(c, "type");
          const std::string why = json_str(c, "reason");
          const std::string msg = json_str(c, "message");
          if (type == "Complete") {
            state = JobState::completed;
            final = true;
          } else if (type == "Failed") {
            state = why == "DeadlineExceeded" ? JobState::timeout : JobState::failed;
            final = true;
          } else {
            continue;  // Suspended, SuccessCriteriaMet, FailureTarget: the final condition follows
          }
          reason = type + (why.empty() ? "" : " (" + why + ")") + (msg.empty() ? "" : ": " + msg);
        }
      }
      if (!final) {
        if (const auto sus = spec.find("suspend"); sus != spec.end() && *sus == true) {
          reason = "suspended";
        } else if (active > 0 && (!ready || *ready > 0)) {
          state = JobState::running;
          reason = std::to_string(active) + " pod(s) active";
        } else {
          reason = active > 0 ? "pods not ready" : "no pod yet";
        }
        if (failed > 0) reason += ", " + std::to_string(failed) + " failed pod(s)";
      }
      job.status.state = state;
      job.status.reason = reason;
      if (state == JobState::completed) job.status.exit_code = 0;
      if (auto t = util::parse_time(json_str(st, "startTime"))) job.status.started = *t;
      if (auto t = util::parse_time(json_str(st, "completionTime"))) job.status.ended = *t;
      // The first container's workingDir (the campaign dir on the preset's volume).
      if (auto tpl = spec.find("template"); tpl != spec.end() && tpl->is_object()) {
        const json pod = tpl->value("spec", json::object());
        if (auto cs = pod.find("containers"); cs != pod.end() && cs->is_array() && !cs->empty()) {
          job.status.work_dir = json_str(cs->front(), "workingDir");
        }
      }
      out.push_back(std::move(job));
    }
    return out;
  }
};

}  // namespace

const Preset& kubernetes_preset() {
  static const Kubernetes preset;
  return preset;
}

}  // namespace cairn::sched::command
