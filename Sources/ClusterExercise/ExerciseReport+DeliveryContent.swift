import DRCore
import Delivery
import Foundation

extension ExerciseReport {
    /// The exercise as the outputs carry it: metrics grouped by cluster in the Pushgateway, the
    /// generic webhook's JSON, and a Discord embed with the verdict, figures, volumes and the
    /// report files written on this machine.
    public func deliveryContent(finishedAt: Date, reportFiles: [URL] = []) -> DeliveryContent {
        var fields = [
            DiscordMessage.Field("RTO", Self.text(recoveryTime), inline: true),
            DiscordMessage.Field("RPO", Self.text(recoveryPoint), inline: true),
            DiscordMessage.Field("Scheduled RPO", Self.text(scheduledRecoveryPoint), inline: true),
            DiscordMessage.Field("Duration", Self.text(total), inline: true),
        ]
        if !volumes.isEmpty {
            fields.append(DiscordMessage.Field("Volumes", volumes.map { "\($0.verdict) \($0.volume)" }.joined(separator: "\n")))
        }
        if let phase = phases.first(where: { $0.outcome == "failed" }) {
            fields.append(DiscordMessage.Field("Failed phase", "\(phase.phase.rawValue): \(phase.message)"))
        }
        if !reportFiles.isEmpty {
            fields.append(DiscordMessage.Field("Report", reportFiles.map(\.path).joined(separator: "\n")))
        }
        let colour: DiscordMessage.Colour =
            switch verdict {
            case .pass: .pass
            case .fail: .fail
            case .incomplete: .incomplete
            }
        let description = failure.map { "Run \(runID) failed: \($0)" } ?? "Run \(runID): the sentinel came back byte for byte."
        return DeliveryContent(
            exposition: prometheusText(finishedAt: finishedAt),
            pushgatewayGroup: PushgatewayGroup(job: "longhorn_dr_exercise", labels: [.init("cluster", cluster)]),
            webhookJSON: notificationJSON(),
            discord: DiscordMessage(
                title: "DR exercise \(verdict.rawValue) · cluster \(cluster)",
                description: verdict == .incomplete && failure == nil
                    ? "Run \(runID) stopped before its verdict." : description,
                colour: colour, fields: fields, at: finishedAt))
    }
}
