import Assurance
import DRCore
import Foundation
import Testing
import Yams

/// The restore orchestrator's kustomization and its Flux gate, read as files: the invariants Flux
/// and Kubernetes do not check for us (a Job that reruns forever, a gate that opens on failure,
/// a timeout shorter than the restore).
@Suite struct RestoreOrchestratorManifestTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    static let base = root.appendingPathComponent("kubernetes/platform/config/longhorn/restore-orchestrator")

    static func documents(_ relative: String, in folder: URL = base) throws -> [[String: Any]] {
        let text = try String(contentsOf: folder.appendingPathComponent(relative), encoding: .utf8)
        return try Yams.load_all(yaml: text).compactMap { $0 as? [String: Any] }
    }

    static func value(_ object: Any?, _ path: String...) -> Any? {
        path.reduce(object) { ($0 as? [String: Any])?[$1] }
    }

    static var job: [String: Any] { get throws { try #require(try documents("job.yaml").first { $0["kind"] as? String == "Job" }) } }

    @Test func everyFileTheKustomizationNamesExists() throws {
        let kustomization = try #require(try Self.documents("kustomization.yaml").first)
        let resources = kustomization["resources"] as? [String] ?? []
        let generated = (kustomization["configMapGenerator"] as? [[String: Any]] ?? []).flatMap { $0["files"] as? [String] ?? [] }
        #expect(!resources.isEmpty)
        for file in resources + generated {
            #expect(FileManager.default.fileExists(atPath: Self.base.appendingPathComponent(file).path), "\(file)")
        }
        // No kustomization-wide namespace: it would move the flux-system Role for the skip flag.
        #expect(kustomization["namespace"] == nil)
    }

    @Test func theShippedRestoreConfigIsValid() throws {
        let path = Self.base.appendingPathComponent("restore.yaml").path
        let config = try ConfigLoader.loadRestore(try String(contentsOfFile: path, encoding: .utf8), file: path)
        #expect(!config.volumes.isEmpty)
        #expect(config.statusConfigMap == "longhorn-dr-restore-status")
    }

    @Test func theJobRunsOnceFailsClosedAndRerunsOnlyOnChange() throws {
        let job = try Self.job
        let spec = try #require(job["spec"] as? [String: Any])
        #expect(spec["ttlSecondsAfterFinished"] == nil, "a TTL makes Flux recreate and rerun the Job")
        #expect(spec["suspend"] as? Bool != true, "Flux counts a suspended Job as ready")
        #expect((spec["backoffLimit"] as? Int).map { $0 <= 2 } == true)
        #expect(Self.value(job, "metadata", "annotations", "kustomize.toolkit.fluxcd.io/force") as? String == "enabled")
        #expect(Self.value(job, "metadata", "annotations", "kustomize.toolkit.fluxcd.io/ssa") == nil, "IfNotPresent would open the gate after a failure")
        // The deadline covers the orchestrator's own waits.
        let path = Self.base.appendingPathComponent("restore.yaml").path
        let config = try ConfigLoader.loadRestore(try String(contentsOfFile: path, encoding: .utf8), file: path)
        let deadline = try #require(spec["activeDeadlineSeconds"] as? Int)
        #expect(Duration.seconds(deadline) > config.syncTimeout + config.restoreTimeout)
    }

    @Test func theContainerIsLockedDownAndReadsTheGeneratedConfig() throws {
        let pod = try #require(Self.value(try Self.job, "spec", "template", "spec") as? [String: Any])
        #expect(pod["restartPolicy"] as? String == "Never")
        #expect(Self.value(pod, "securityContext", "runAsNonRoot") as? Bool == true)
        #expect(pod["serviceAccountName"] as? String == "restore-orchestrator")
        let container = try #require((pod["containers"] as? [[String: Any]])?.first)
        #expect(Self.value(container, "securityContext", "readOnlyRootFilesystem") as? Bool == true)
        #expect(Self.value(container, "securityContext", "allowPrivilegeEscalation") as? Bool == false)
        #expect(Self.value(container, "securityContext", "capabilities", "drop") as? [String] == ["ALL"])
        let args = container["args"] as? [String] ?? []
        let configIndex = try #require(args.firstIndex(of: "--config"))
        let configPath = args[configIndex + 1]
        let mount = try #require((container["volumeMounts"] as? [[String: Any]])?.first { configPath.hasPrefix(($0["mountPath"] as? String ?? "") + "/") })
        #expect(configPath.hasSuffix("/" + RestoreConfig.Defaults.configMapKey))
        let volume = try #require((pod["volumes"] as? [[String: Any]])?.first { $0["name"] as? String == mount["name"] as? String })
        let kustomization = try #require(try Self.documents("kustomization.yaml").first)
        let generated = (kustomization["configMapGenerator"] as? [[String: Any]] ?? []).compactMap { $0["name"] as? String }
        #expect(generated.contains(Self.value(volume, "configMap", "name") as? String ?? "-"), "the Job mounts the generated (hashed) ConfigMap")
    }

    /// The ValidatingAdmissionPolicy of `docs`, checked to be bound by name, to deny, and to fail closed.
    static func denyingPolicy(_ docs: [[String: Any]], sourceLocation: SourceLocation = #_sourceLocation) throws -> [String: Any] {
        let policy = try #require(docs.first { $0["kind"] as? String == "ValidatingAdmissionPolicy" }, sourceLocation: sourceLocation)
        let binding = try #require(docs.first { $0["kind"] as? String == "ValidatingAdmissionPolicyBinding" }, sourceLocation: sourceLocation)
        #expect(Self.value(binding, "spec", "policyName") as? String == Self.value(policy, "metadata", "name") as? String, sourceLocation: sourceLocation)
        #expect(Self.value(binding, "spec", "validationActions") as? [String] == ["Deny"], sourceLocation: sourceLocation)
        #expect(Self.value(policy, "spec", "failurePolicy") as? String == "Fail", sourceLocation: sourceLocation)
        return policy
    }

    /// The policy only works if its names match the Job's: a renamed service account or namespace
    /// would silently leave PV writes unrestricted (the simulator does not evaluate CEL).
    @Test func thePVPolicyHoldsTheJobsServiceAccountToLonghornVolumes() throws {
        let policy = try Self.denyingPolicy(try Self.documents("pv-policy.yaml"))
        let rules = try #require(Self.value(policy, "spec", "matchConstraints", "resourceRules") as? [[String: Any]])
        #expect(rules.contains { ($0["resources"] as? [String]) == ["persistentvolumes"] && Set($0["operations"] as? [String] ?? []) == ["CREATE", "UPDATE"] })
        let account = try #require(try Self.documents("serviceaccount.yaml").first { $0["kind"] as? String == "ServiceAccount" })
        let accountName = try #require(Self.value(account, "metadata", "name") as? String)
        #expect(Self.value(try Self.job, "spec", "template", "spec", "serviceAccountName") as? String == accountName)
        let user = "system:serviceaccount:\(Self.value(account, "metadata", "namespace") as? String ?? "-"):\(accountName)"
        let conditions = (Self.value(policy, "spec", "matchConditions") as? [[String: Any]] ?? []).compactMap { $0["expression"] as? String }
        #expect(conditions == ["request.userInfo.username == '\(user)'"])
        let validations = (Self.value(policy, "spec", "validations") as? [[String: Any]] ?? []).compactMap { $0["expression"] as? String }
        #expect(validations.contains("has(object.spec.csi) && object.spec.csi.driver == 'driver.longhorn.io'"))
    }

    /// The restore test's service account may delete Longhorn volumes; its policy must hold it to
    /// the scratch objects the tool makes: the same account, name prefix and label as the code.
    @Test func theRestoreTestPolicyHoldsTheAssureAccountToItsScratchObjects() throws {
        let folder = Self.root.appendingPathComponent("kubernetes/platform/config/longhorn/assurance")
        let policy = try Self.denyingPolicy(try Self.documents("restore-test/policy.yaml", in: folder))
        let rules = try #require(Self.value(policy, "spec", "matchConstraints", "resourceRules") as? [[String: Any]])
        let covered = Set(rules.flatMap { $0["resources"] as? [String] ?? [] })
        #expect(covered == ["volumes", "persistentvolumes", "persistentvolumeclaims", "pods"])
        #expect(rules.allSatisfy { Set($0["operations"] as? [String] ?? []) == ["CREATE", "UPDATE", "DELETE"] })
        let account = try #require(try Self.documents("serviceaccount.yaml", in: folder).first { $0["kind"] as? String == "ServiceAccount" })
        let user =
            "system:serviceaccount:\(Self.value(account, "metadata", "namespace") as? String ?? "-"):\(Self.value(account, "metadata", "name") as? String ?? "-")"
        let conditions = (Self.value(policy, "spec", "matchConditions") as? [[String: Any]] ?? []).compactMap { $0["expression"] as? String }
        #expect(conditions == ["request.userInfo.username == '\(user)'"])
        let validations = (Self.value(policy, "spec", "validations") as? [[String: Any]] ?? []).compactMap { $0["expression"] as? String }.joined(
            separator: "\n")
        #expect(validations.contains("startsWith('\(RestoreTest.namePrefix)')"))
        #expect(validations.contains("'\(RestoreTest.label)' in variables.target.metadata.labels"))
        let roles = try Self.documents("restore-test/rbac.yaml", in: folder)
        let subjects = roles.compactMap { Self.value($0, "subjects") as? [[String: Any]] }.flatMap { $0 }
        #expect(!subjects.isEmpty && subjects.allSatisfy { $0["name"] as? String == Self.value(account, "metadata", "name") as? String })
    }

    @Test func theFluxGateWaitsForTheJobLongerThanItsDeadline() throws {
        let flux = try Self.documents("longhorn-restore-orchestrator.yaml", in: Self.root.appendingPathComponent("kubernetes/platform/flux"))
        let byName = Dictionary(uniqueKeysWithValues: flux.compactMap { doc in (Self.value(doc, "metadata", "name") as? String).map { ($0, doc) } })
        let gate = try #require(byName["longhorn-restore-orchestrator"])
        #expect(Self.value(gate, "spec", "wait") as? Bool == true)
        #expect((Self.value(gate, "spec", "dependsOn") as? [[String: Any]])?.contains { $0["name"] as? String == "longhorn" } == true)
        let path = try #require(Self.value(gate, "spec", "path") as? String)
        #expect(FileManager.default.fileExists(atPath: Self.root.appendingPathComponent(path).appendingPathComponent("kustomization.yaml").path), "\(path)")
        let timeout = try #require(DurationText.parse(Self.value(gate, "spec", "timeout") as? String ?? ""))
        let deadline = try #require(Self.value(try Self.job, "spec", "activeDeadlineSeconds") as? Int)
        #expect(timeout >= .seconds(deadline))
        // Workloads wait for the gate, and nothing waits in a circle.
        let dependents = byName.values.filter { doc in
            (Self.value(doc, "spec", "dependsOn") as? [[String: Any]])?.contains { $0["name"] as? String == "longhorn-restore-orchestrator" } == true
        }
        #expect(!dependents.isEmpty)
        #expect(
            (Self.value(gate, "spec", "dependsOn") as? [[String: Any]])?.contains { dep in
                dependents.contains { Self.value($0, "metadata", "name") as? String == dep["name"] as? String }
            } == false)
    }
}
