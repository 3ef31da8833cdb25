import DRCore
import Foundation
import KubeClient
import KubeModels
import Simulator

/// One ResourceSet between passes: what triggered its last reconcile, when the next is due, and
/// a health check in progress.
struct ResourceSetState {
    var trigger = ""
    var nextRun: ContinuousClock.Instant?
    var wait: FluxSimulation.Wait?
}

/// flux-operator's ResourceSet controller, for static inputs: render the templates once per
/// input set, server-side apply the result as `flux-operator`, garbage-collect what left the
/// render, and (with `wait`) report Ready only when everything applied is healthy.
extension FluxSimulation {
    static let operatorManager = "flux-operator"
    static let operatorForceAnnotation = "fluxcd.controlplane.io/force"
    static let reconcileEveryAnnotation = "fluxcd.controlplane.io/reconcileEvery"
    static let reconcileTimeoutAnnotation = "fluxcd.controlplane.io/reconcileTimeout"
    /// How often an unmet dependency is checked again (flux-operator: 5 s).
    static let resourceSetDependencyRequeue = Duration.seconds(5)

    func reconcileResourceSets() async {
        let resource = FluxCRDs.resource(FluxCRDs.resourceSet)
        guard let sets = try? await client.list(resource).items else { return }
        var present = Set<String>()
        for set in sets {
            let key = Self.key(set)
            present.insert(key)
            if set[path: ["metadata", "deletionTimestamp"]] != nil { continue }
            if set[path: ["metadata", "annotations", "fluxcd.controlplane.io/reconcile"]]?.stringValue == "disabled" { continue }
            var state = resourceSetStates[key] ?? ResourceSetState()
            if let wait = state.wait {
                if clock.now >= wait.nextPoll { await pollResourceSet(set, wait: wait, state: &state) }
                resourceSetStates[key] = state
                continue
            }
            let trigger = [
                set[path: ["metadata", "generation"]]?.intValue.map(String.init) ?? "",
                set[path: ["metadata", "annotations", Self.requestedAtAnnotation]]?.stringValue ?? "",
            ].joined(separator: "|")
            guard trigger != state.trigger || state.nextRun.map({ clock.now >= $0 }) ?? true else { continue }
            state.trigger = trigger
            await reconcileResourceSet(set, state: &state)
            resourceSetStates[key] = state
        }
        for key in resourceSetStates.keys where !present.contains(key) { resourceSetStates[key] = nil }
    }

    private func every(_ set: JSONValue) -> Duration {
        set[path: ["metadata", "annotations", Self.reconcileEveryAnnotation]]?.stringValue.flatMap(DurationText.parse) ?? .seconds(3600)
    }

    private func reconcileResourceSet(_ set: JSONValue, state: inout ResourceSetState) async {
        let started = clock.now
        if let blocked = await unmetDependency(of: set) {
            await finishResourceSet(set, failure: Failure(reason: "DependencyNotReady", message: blocked), inventory: nil)
            state.nextRun = clock.now + Self.resourceSetDependencyRequeue
            return
        }
        do {
            let objects = try Self.render(set)
            let applier = Applier(
                manager: Self.operatorManager,
                labels: [
                    "resourceset.fluxcd.controlplane.io/name": set[path: ["metadata", "name"]]?.stringValue ?? "",
                    "resourceset.fluxcd.controlplane.io/namespace": set[path: ["metadata", "namespace"]]?.stringValue ?? "",
                ], targetNamespace: nil, forceAll: false, forceAnnotation: Self.operatorForceAnnotation)
            let (inventory, applied) = try await apply(objects, by: applier)
            try await prune(previous: set[path: ["status", "inventory", "entries"]], keeping: Set(inventory.map(\.inventoryID)))
            guard set[path: ["spec", "wait"]]?.boolValue == true, !applied.isEmpty else {
                await finishResourceSet(set, inventory: inventory, message: "Reconciliation finished in \(Self.seconds(clock.now - started))")
                state.nextRun = clock.now + every(set)
                return
            }
            let timeout = set[path: ["metadata", "annotations", Self.reconcileTimeoutAnnotation]]?.stringValue.flatMap(DurationText.parse) ?? .seconds(300)
            state.wait = Wait(
                revision: "", objects: applied, inventory: inventory, started: started, deadline: started + timeout, nextPoll: clock.now,
                trigger: state.trigger)
            await patchStatus(
                FluxCRDs.resource(FluxCRDs.resourceSet), set, conditions: [("Ready", "Unknown", "Progressing", "Reconciliation in progress")],
                extra: ["inventory": Self.inventoryJSON(inventory)])
        } catch let failure as Failure {
            await finishResourceSet(set, failure: failure, inventory: nil)
            state.nextRun = clock.now + every(set)
        } catch {
            await finishResourceSet(set, failure: Failure(reason: "ReconciliationFailed", message: "\(error)"), inventory: nil)
            state.nextRun = clock.now + every(set)
        }
    }

    private func pollResourceSet(_ set: JSONValue, wait: Wait, state: inout ResourceSetState) async {
        let (failed, pending) = await health(of: wait.objects)
        if !failed.isEmpty || (!pending.isEmpty && clock.now >= wait.deadline) {
            let detail =
                failed.isEmpty
                ? "timeout waiting for: [\(pending.joined(separator: ", "))]" : "failed early due to stalled resources: [\(failed.joined(separator: ", "))]"
            await finishResourceSet(set, failure: Failure(reason: "HealthCheckFailed", message: "health check failed: \(detail)"), inventory: wait.inventory)
            state.wait = nil
            state.nextRun = clock.now + every(set)
            return
        }
        if pending.isEmpty {
            await finishResourceSet(set, inventory: wait.inventory, message: "Reconciliation finished in \(Self.seconds(clock.now - wait.started))")
            state.wait = nil
            state.nextRun = clock.now + every(set)
            return
        }
        state.wait?.nextPoll = clock.now + options.healthPollInterval
    }

    /// The first `dependsOn` entry that is missing, or not Ready when it must be; nil when all are met.
    private func unmetDependency(of set: JSONValue) async -> String? {
        let namespace = set[path: ["metadata", "namespace"]]?.stringValue ?? "flux-system"
        for dependency in set[path: ["spec", "dependsOn"]]?.arrayValue ?? [] {
            let apiVersion = dependency["apiVersion"]?.stringValue ?? ""
            let kind = dependency["kind"]?.stringValue ?? ""
            let name = dependency["name"]?.stringValue ?? ""
            if dependency["readyExpr"] != nil { return "dependency \(kind)/\(name): readyExpr is not supported by the simulated flux-operator" }
            guard let resource = try? await resource(for: apiVersion, kind: kind) else {
                return "dependency \(apiVersion)/\(kind) \(name) not found: no such kind"
            }
            let dependencyNamespace = resource.namespaced ? dependency["namespace"]?.stringValue ?? namespace : nil
            let label = dependencyNamespace.map { "\(kind)/\($0)/\(name)" } ?? "\(kind)/\(name)"
            guard let object = try? await client.getIfPresent(resource, namespace: dependencyNamespace, name: name) else {
                return "dependency \(label) not found"
            }
            if dependency["ready"]?.boolValue == true, FluxHealth.condition(object["status"] ?? [:], "Ready")?["status"] != "True" {
                return "dependency \(label) not ready"
            }
        }
        return nil
    }

    /// Every object the ResourceSet renders: its templates once per input set, with
    /// `inputs.provider` naming the ResourceSet, and its `commonMetadata` on each.
    static func render(_ set: JSONValue) throws(Failure) -> [JSONValue] {
        let provider: JSONValue = [
            "apiVersion": "fluxcd.controlplane.io/v1", "kind": "ResourceSet", "name": set[path: ["metadata", "name"]] ?? "",
            "namespace": set[path: ["metadata", "namespace"]] ?? "",
        ]
        var inputSets = (set[path: ["spec", "inputs"]]?.arrayValue ?? []).map { input -> JSONValue in
            var input = input
            input["provider"] = provider
            return input
        }
        if set[path: ["spec", "inputsFrom"]] != nil || set[path: ["spec", "steps"]] != nil {
            throw Failure(reason: "BuildFailed", message: "inputsFrom and steps are not supported by the simulated flux-operator")
        }
        if inputSets.isEmpty { inputSets = [["provider": provider]] }
        var templates: [String] = []
        if let text = set[path: ["spec", "resourcesTemplate"]]?.stringValue { templates.append(text) }
        for resource in set[path: ["spec", "resources"]]?.arrayValue ?? [] {
            // Each object as text (JSON is YAML), templated, parsed again, as flux-operator does.
            templates.append(resource.jsonText)
        }
        var objects: [JSONValue] = []
        var seen = Set<String>()
        for template in templates {
            let parsed: FluxTemplate
            do {
                parsed = try FluxTemplate(template)
            } catch {
                throw Failure(reason: "BuildFailed", message: "failed to parse the template: \(error.message)")
            }
            for inputs in inputSets {
                let text: String
                do {
                    text = try parsed.render(inputs: inputs)
                } catch {
                    throw Failure(
                        reason: "BuildFailed", message: "failed to render the template for input \(inputs["name"]?.stringValue ?? "#"): \(error.message)")
                }
                let documents: [JSONValue]
                do {
                    documents = try YAMLBody.documents(text).filter { $0["kind"] != nil }
                } catch {
                    throw Failure(reason: "BuildFailed", message: "the rendered template is not valid YAML: \(error)\n\(text)")
                }
                for var object in documents {
                    for field in ["labels", "annotations"] {
                        for (key, value) in set[path: ["spec", "commonMetadata", field]]?.objectValue ?? [:] {
                            object[path: ["metadata", field, key]] = value
                        }
                    }
                    let id = [object["apiVersion"], object["kind"], object[path: ["metadata", "namespace"]], object[path: ["metadata", "name"]]]
                        .map { $0?.stringValue ?? "" }.joined(separator: "/")
                    guard seen.insert(id).inserted else {
                        throw Failure(reason: "BuildFailed", message: "duplicate object \(id) in the rendered resources")
                    }
                    objects.append(object)
                }
            }
        }
        return objects
    }

    static func inventoryJSON(_ inventory: [ObjectRef]) -> JSONValue {
        ["entries": .array(inventory.map { ["id": .string($0.inventoryID), "v": .string($0.version)] })]
    }

    private func finishResourceSet(_ set: JSONValue, failure: Failure? = nil, inventory: [ObjectRef]?, message: String = "") async {
        var extra: [String: JSONValue] = [:]
        if let inventory { extra["inventory"] = Self.inventoryJSON(inventory) }
        if let requested = set[path: ["metadata", "annotations", Self.requestedAtAnnotation]]?.stringValue {
            extra["lastHandledReconcileAt"] = .string(requested)
        }
        let condition =
            failure.map { ("Ready", "False", $0.reason, $0.message) } ?? ("Ready", "True", "ReconciliationSucceeded", message)
        await patchStatus(FluxCRDs.resource(FluxCRDs.resourceSet), set, conditions: [condition], extra: extra)
    }
}
