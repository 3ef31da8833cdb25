import DRCore
import Delivery
import Foundation

extension AssuranceReport {
    /// The run as the outputs carry it: metrics grouped by store in the Pushgateway, the generic
    /// webhook's JSON, and a Discord embed with a field per volume (failed ones first).
    public func deliveryContent() -> DeliveryContent {
        let verdict = passed ? "PASS" : "FAIL"
        let failed = volumes.filter { !$0.passed }
        let ordered = failed + volumes.filter(\.passed)
        let fields = ordered.map { volume in
            DiscordMessage.Field(
                "\(volume.passed ? "PASS" : "FAIL") \(volume.volume)", volume.passed ? Self.summary(volume) : volume.messages.joined(separator: "\n"))
        }
        let description =
            failed.isEmpty
            ? "Every declared volume (\(volumes.count)) has a backup within its maxAge whose blocks verified."
            : "\(failed.count) of \(volumes.count) volumes failed: \(failed.map(\.volume).joined(separator: ", "))."
        var text = "longhorn-dr assure \(store): \(verdict)"
        for volume in failed {
            text += "\n\(volume.volume): \(volume.reasons.map(\.rawValue).joined(separator: ", ")): \(volume.messages.joined(separator: "; "))"
        }
        let object: [String: Any] = [
            "text": text, "store": store, "verdict": verdict, "run": run, "exitCode": Int(exitStatus.rawValue),
            "failedVolumes": failed.map(\.volume), "volumes": volumes.count, "bytesRead": bytesRead,
        ]
        return DeliveryContent(
            exposition: metrics(),
            pushgatewayGroup: PushgatewayGroup(job: "longhorn_dr_assure", labels: [.init("store", store)]),
            webhookJSON: (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])) ?? Data(),
            discord: DiscordMessage(
                title: "Backup assurance \(verdict) · \(store)", description: description, colour: passed ? .pass : .fail, fields: fields,
                at: checkedAt))
    }

    static func summary(_ volume: VolumeResult) -> String {
        let age = volume.age.map { "age \(DurationText.format($0))" } ?? "age -"
        let limit = volume.maxAge.map { " (maxAge \(DurationText.format($0)))" } ?? ""
        let restored = volume.restoreTest.map { $0.passed ? "; restored by the cluster and read back: the backup's data" : "" } ?? ""
        return "\(volume.backup), \(age)\(limit); \(volume.blocksVerified) of \(volume.blocksListed) blocks read this run\(restored)"
    }
}
