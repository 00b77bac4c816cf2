from mobilise import create_app

app = create_app()
