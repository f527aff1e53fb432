email-sign-in-subject = Votre lien de connexion
email-sign-in-intro = Ouvrez ce lien pour vous connecter à votre portail partenaires. Il fonctionne une fois, pendant 15 minutes.
email-sign-in-button = Se connecter
email-sign-in-ignore = Si vous ne l’avez pas demandé, ignorez cet e-mail : personne ne peut se connecter sans le lien.
email-reminder-subject = Rappel : { $title }
email-reminder-intro = { $lead } vous demande de lire et de confirmer un message à connaître absolument :
