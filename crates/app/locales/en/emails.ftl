email-sign-in-subject = Your sign-in link
email-sign-in-intro = Open this link to sign in to your partner portal. It works once, for 15 minutes.
email-sign-in-button = Sign in
email-sign-in-ignore = If you did not ask for it, ignore this email: nobody can sign in without the link.
email-reminder-subject = Reminder: { $title }
email-reminder-intro = { $lead } asks you to read and acknowledge a must-know message:
