email-sign-in-subject = Your sign-in link
email-sign-in-intro = Open this link to sign in to your partner portal. It works once, for 15 minutes.
email-sign-in-button = Sign in
email-sign-in-ignore = If you did not ask for it, ignore this email: nobody can sign in without the link.
email-reminder-subject = Reminder: { $title }
email-reminder-intro = { $lead } asks you to read and acknowledge a must-know message:

chase-reminder-title = Reminder: { $title }
chase-correction-title = Corrected: { $title }
chase-correction-intro = This message was corrected after it went out. Please read it again and acknowledge the corrected text.
chase-lead-title = Still outstanding at { $partner }: { $title }
chase-lead-intro = { $count } of your colleagues have not acknowledged this yet. Please make sure they do:
chase-state-reminded = reminded by { $channel }
chase-state-waiting = a reminder by { $channel } goes in their working hours
chase-state-failed = the reminder by { $channel } failed: { $reason }
chase-state-unreachable = no channel is open to remind them; only the portal shows it
chase-state-not-yet = not reminded yet

email-digest-subject = Your digest: { $count } updates you have not read
email-digest-intro = Here are the { $count } nice-to-know messages waiting in your partner portal that you have not read yet:
email-digest-change = Change how often you get this digest in your preferences:
