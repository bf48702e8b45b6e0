import { LOG_NUMBER, parseLogNumber } from "./log-number.ts";
import { namedGroup, type StepFormat, stepPoint } from "./step-format.ts";

/** nnU-Net: an epoch is a block of lines; each line of it updates the epoch's point. */
export function nnunetFormat(): StepFormat {
  const epochLine = /(?:^|: )Epoch (?<epoch>\d+)\s*$/;
  const trainLoss = new RegExp(String.raw`: train_loss (?<loss>${LOG_NUMBER})\s*$`);
  const epochTime = /: Epoch time: (?<seconds>\d+(?:\.\d+)?) s\s*$/;
  return {
    name: "nnunet",
    description: "nnU-Net epoch blocks: 'Epoch 12', 'train_loss -0.19', 'Epoch time: 293.48 s'",
    createMatcher() {
      let epoch: number | null = null;
      let loss: number | null = null;
      return {
        name: "nnunet",
        match(line) {
          const started = epochLine.exec(line);
          if (started) {
            epoch = Number(namedGroup(started, "epoch"));
            loss = null;
            return stepPoint(epoch, { epoch });
          }
          if (epoch === null) return null;
          const lossMatch = trainLoss.exec(line);
          if (lossMatch) {
            loss = parseLogNumber(namedGroup(lossMatch, "loss"));
            return stepPoint(epoch, { epoch, loss });
          }
          const timeMatch = epochTime.exec(line);
          if (timeMatch) {
            return stepPoint(epoch, {
              epoch,
              loss,
              stepTime: Number(namedGroup(timeMatch, "seconds")),
            });
          }
          return null;
        },
      };
    },
  };
}
